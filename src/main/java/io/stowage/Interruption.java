package io.stowage;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * A request to stop the running command, from SIGTERM, SIGINT (Ctrl-C) or SIGHUP (its terminal gone), and what
 * stops with it.
 *
 * <p>Why not the JVM's own handling: it starts the shutdown hooks and exits 143 or 130 at once, so the command's
 * failure path (stop the tool, drop or mark the partial target, the audit line, the {@code error:} line) never runs;
 * and Camel's hook first waits up to {@code camel.main.shutdown-timeout} for the exchange in flight, which is the
 * very backup that should stop. So, while a command runs, a signal instead: stops what the command waits on (the
 * tools it started, through {@link #onStop}), makes {@link #check} and {@link #pause} throw, and lets the command
 * fail the ordinary way, on its own thread, within seconds. The command thread is not interrupted: that would also
 * break the cleanup it must still do (audit log, scratch server stop), which runs on the same thread.
 *
 * <p>If the command has not ended {@link #STOP_LIMIT} after the signal, or a second signal comes, the process prints
 * one {@code error:} line and exits at once. The service ({@code run}) is told of SIGTERM and SIGINT through
 * {@link #serviceStop} and stops on its own thread. Otherwise ({@code check}, {@code list}) a signal does what it
 * always did. This is the one place that handles signals: {@code sun.misc.Signal} keeps one handler per signal, the
 * last one installed, so two installers would silently take signals from each other. {@code sun.misc.Signal} (module
 * jdk.unsupported) is the JDK's one way to handle a signal, kept available for uses like this one (JEP 260).
 */
public final class Interruption {
    /** How long a command may take to fail after a signal before the process exits without it. */
    public static final Duration STOP_LIMIT = Duration.ofSeconds(15);

    private static final Set<Command> COMMANDS = ConcurrentHashMap.newKeySet();
    private static final Set<Registration> ACTIONS = ConcurrentHashMap.newKeySet();
    private static final CountDownLatch STOPPED = new CountDownLatch(1);
    private static final ThreadLocal<Boolean> CLEANING_UP = ThreadLocal.withInitial(() -> false);
    private static volatile String signal;
    private static volatile ServiceStop serviceStop;
    private static boolean installed;

    private Interruption() {
    }

    /** A stop: the operation fails, saying which signal asked for it. Exit status 1: the operation failed. */
    public static final class Interrupted extends StowageException {
        Interrupted(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Takes over SIGTERM, SIGINT and SIGHUP for this process (from main: an embedding JVM keeps its own handling). A
     * signal that this process ignores (a background job's SIGINT, nohup's SIGHUP) stays ignored.
     */
    public static synchronized void installSignalHandlers() {
        if (installed) {
            return;
        }
        installed = true;
        for (String name : List.of("TERM", "INT", "HUP")) {
            try {
                Signal sig = new Signal(name);
                SignalHandler[] previous = new SignalHandler[1];
                previous[0] = Signal.handle(sig, s -> received(s, previous[0]));
                if (previous[0] == SignalHandler.SIG_IGN) {
                    Signal.handle(sig, SignalHandler.SIG_IGN);
                }
            } catch (IllegalArgumentException | UnsupportedOperationException reserved) {
                // -Xrs, or a JVM that keeps the signal: its default handling stays
            }
        }
    }

    private static void received(Signal sig, SignalHandler previous) {
        if (COMMANDS.isEmpty()) {
            ServiceStop service = serviceStop;
            if (service != null) {
                service.requested.countDown();
                return;
            }
            if (previous != null && previous != SignalHandler.SIG_DFL && previous != SignalHandler.SIG_IGN) {
                previous.handle(sig);
            } else if (previous == SignalHandler.SIG_DFL) {
                Runtime.getRuntime().exit(128 + sig.getNumber());
            }
            return;
        }
        String name = "SIG" + sig.getName();
        synchronized (Interruption.class) {
            if (signal != null) {
                abandon("interrupted again by " + name + ": stopped at once, without cleaning up");
                return;
            }
            signal = name;
        }
        STOPPED.countDown();
        for (Registration action : List.copyOf(ACTIONS)) {
            action.run();
        }
        Thread watchdog = new Thread(() -> {
            long deadline = System.nanoTime() + STOP_LIMIT.toNanos();
            for (Command command : List.copyOf(COMMANDS)) {
                try {
                    if (!command.done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                        abandon("interrupted by " + name + ", and stopping took longer than " + STOP_LIMIT.toSeconds()
                                + " s: stopped at once, without cleaning up");
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "stowage-stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** Ends the process now: one error line for each running command, exit status 1. */
    private static void abandon(String why) {
        for (Command command : List.copyOf(COMMANDS)) {
            command.err.println("error: " + command.what + " " + why + "; HINT: see 'Stopping a command' in "
                    + "docs/operations.md for what may be left");
            command.err.flush();
        }
        Runtime.getRuntime().halt(StowageException.FAILED);
    }

    /** The signal that asked the running command to stop ({@code SIGTERM}, {@code SIGINT}, {@code SIGHUP}), or null. */
    public static String signal() {
        return signal;
    }

    /** Fails with {@link Interrupted} if a signal asked the command to stop. */
    public static void check() {
        String name = signal;
        if (name != null && !CLEANING_UP.get()) {
            throw new Interrupted("interrupted by " + name, null);
        }
    }

    /** {@code what} (say, "pg_dump was stopped") as the interruption's failure. */
    public static Interrupted interrupted(String what, Throwable cause) {
        return new Interrupted(what + ": interrupted by " + signal, cause);
    }

    /**
     * The failure to report for {@code failure}: itself, or, when a signal asked the command to stop and the failure
     * is how the stop showed (a broken pipe, a closed connection), the interruption, keeping what the failure said.
     */
    public static Throwable explain(Throwable failure) {
        if (signal == null || caused(failure)) {
            return failure;
        }
        return new Interrupted("interrupted by " + signal + " (" + Failures.describe(failure) + ")", failure);
    }

    /** Whether a stop caused {@code failure}: an {@link Interrupted} is in its causes. */
    public static boolean caused(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof Interrupted) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code in}, closed by a stop: a read blocked on a slow disk, a network mount or a pipe then returns (a file's
     * channel wakes its reader when closed), and the reader fails. For streams whose close returns at once. Its
     * {@code available()} says 0 where the source cannot tell (a file channel on a pipe cannot seek), as the
     * contract allows, rather than failing the decoder that asks.
     */
    public static java.io.InputStream closingOnStop(java.io.InputStream in) {
        Registration stop = onStop(in::close);
        return new java.io.FilterInputStream(in) {
            @Override
            public int available() {
                try {
                    return in.available();
                } catch (java.io.IOException cannotTell) {
                    return 0;
                }
            }

            @Override
            public void close() throws java.io.IOException {
                stop.close();
                in.close();
            }
        };
    }

    /** Waits {@code millis}; a signal asking the command to stop ends the wait at once, with {@link Interrupted}. */
    public static void pause(long millis) throws InterruptedException {
        check();
        if (STOPPED.await(millis, TimeUnit.MILLISECONDS)) {
            check();
        }
    }

    /**
     * Runs {@code action} when a signal asks the command to stop, until the registration is closed: stop a tool,
     * close a stream or connection the command waits on. Registered after the signal, it never runs: what starts
     * then is the command's own cleanup.
     */
    public static Registration onStop(Action action) {
        Registration registration = new Registration(action);
        if (signal == null) {
            ACTIONS.add(registration);
        }
        return registration;
    }

    /** Runs {@code cleanup} even after a signal: {@link #check} does not fail inside it. */
    public static void cleanUp(Action cleanup) throws Exception {
        boolean outer = CLEANING_UP.get();
        CLEANING_UP.set(true);
        try {
            cleanup.run();
        } finally {
            CLEANING_UP.set(outer);
        }
    }

    /**
     * Marks a command as running until closed: a signal then stops it instead of ending the process; {@code what}
     * names it in the line printed if it has to be abandoned ("backup of job 'shop'").
     */
    public static Command command(String what, PrintWriter err) {
        Command command = new Command(what, err);
        COMMANDS.add(command);
        return command;
    }

    /**
     * For the service ({@code run}), until closed: SIGTERM, SIGINT and SIGHUP ask it to stop ({@link ServiceStop#await}
     * returns), which it does on its own thread and answers with its own exit status. Left to the JVM, these signals
     * start its shutdown while the service is still waiting (or, while it starts, end the process before anything
     * can stop what has started), and the process exits 143 (or 130, 129) however cleanly the service stopped, which
     * systemd reports as a failure. A signal the process ignores (SIGHUP under nohup) stays ignored. A signal the JVM
     * keeps for itself ({@code java -Xrs}) is left to it: a shutdown hook still stops the service, with the JVM's exit
     * status.
     */
    public static synchronized ServiceStop serviceStop() {
        installSignalHandlers();
        ServiceStop stop = new ServiceStop();
        serviceStop = stop;
        return stop;
    }

    /** The service's stop request, until closed. */
    public static final class ServiceStop implements AutoCloseable {
        private final CountDownLatch requested = new CountDownLatch(1);

        private ServiceStop() {
        }

        /** Returns once SIGTERM, SIGINT or SIGHUP asked the service to stop. */
        public void await() throws InterruptedException {
            requested.await();
        }

        @Override
        public void close() {
            synchronized (Interruption.class) {
                if (serviceStop == this) {
                    serviceStop = null;
                }
            }
        }
    }

    /** Something to do at a stop. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    /** An {@link #onStop} action, until closed. */
    public static final class Registration implements AutoCloseable {
        private final Action action;

        private Registration(Action action) {
            this.action = action;
        }

        private void run() {
            try {
                action.run();
            } catch (Exception ignored) {
                // stopping what is already gone
            }
        }

        @Override
        public void close() {
            ACTIONS.remove(this);
        }
    }

    /** A running command, until closed. */
    public static final class Command implements AutoCloseable {
        private final String what;
        private final PrintWriter err;
        private final CountDownLatch done = new CountDownLatch(1);

        private Command(String what, PrintWriter err) {
            this.what = what;
            this.err = err;
        }

        @Override
        public void close() {
            COMMANDS.remove(this);
            done.countDown();
        }
    }
}
