package io.stowage.cli;

import io.stowage.runtime.StowageRuntime;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.ParentCommand;

/** What every subcommand shares: the global options, output, and starting the runtime. */
abstract class BaseCommand implements Callable<Integer> {
    @ParentCommand
    StowageCommand top;

    PrintWriter out() {
        return top.out();
    }

    PrintWriter err() {
        return top.err();
    }

    void warn(String message) {
        err().println("warning: " + io.stowage.TerminalText.line(io.stowage.Secrets.mask(message)));
        err().flush();
    }

    /** For commands that read backups: a warning for each key file others can read, as check reports them. */
    void warnAboutExposedKeys(StowageRuntime runtime) {
        runtime.services().encryption().exposedKeyFiles().forEach(this::warn);
    }

    /**
     * Marks this command, until closed, as one that SIGTERM and SIGINT stop through its own failure path instead of
     * ending the process (see {@link io.stowage.Interruption}); {@code what} names it ("backup of job 'shop'").
     */
    io.stowage.Interruption.Command stoppable(String what) {
        return io.stowage.Interruption.command(what, err());
    }

    StowageRuntime startRuntime(boolean service) {
        top.configureLogging(service);
        return StowageRuntime.start(top.config, service);
    }

    /** For backup, list and restore: every route but the schedules, which only check and run need. */
    StowageRuntime startLightRuntime() {
        top.configureLogging(false);
        return StowageRuntime.startLight(top.config);
    }
}
