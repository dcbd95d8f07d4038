package io.stowage;

import io.stowage.cli.StowageCommand;
import java.io.PrintWriter;

/** The entry point: {@code java -jar stowage.jar [--config FILE] COMMAND [ARGS]}. */
public final class Stowage {
    private Stowage() {
    }

    public static void main(String[] args) {
        // SIGTERM and SIGINT stop a running backup, restore or verification through its own failure path.
        Interruption.installSignalHandlers();
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command and returns its exit status; used by main and by tests, which capture the output. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return StowageCommand.commandLine(out, err).execute(args);
    }
}
