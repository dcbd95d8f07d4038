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
        PrintWriter err = new PrintWriter(System.err, true);
        int status;
        try {
            status = execute(args, new PrintWriter(System.out, true), err);
        } catch (Throwable unexpected) {
            // An Error escapes picocli's handler; the JVM must exit all the same, or the service's threads would
            // keep a process alive that has stopped doing its work.
            err.println("error: " + Failures.describe(unexpected));
            status = StowageException.FAILED;
        }
        // Work cut short (a service's stop that ran out of time) may have left a tool running.
        io.stowage.pipeline.ExternalProcess.stopAll();
        System.exit(status);
    }

    /**
     * Runs one command and returns its exit status; used by main and by tests, which capture the output. Both
     * streams escape control characters: what a command prints may hold names and ids that came from outside.
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        PrintWriter safeOut = new PrintWriter(TerminalText.escaping(out), true);
        PrintWriter safeErr = new PrintWriter(TerminalText.escaping(err), true);
        try {
            return StowageCommand.commandLine(safeOut, safeErr).execute(args);
        } finally {
            safeOut.flush();
            safeErr.flush();
        }
    }
}
