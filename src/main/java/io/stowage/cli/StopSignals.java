package io.stowage.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM, SIGINT and SIGHUP as a request to stop, which {@code run} then carries out on its own thread and answers
 * with its own exit status. Left to the JVM, these signals start its shutdown while {@code run} is still waiting, and
 * the process exits 143 (or 130, 129) however cleanly the service stopped, which systemd reports as a failure; and
 * one that comes while the service starts ends the process there, before anything can stop what has started. A
 * signal the process ignores (SIGHUP under nohup) stays ignored.
 */
final class StopSignals implements AutoCloseable {
    private static final List<String> NAMES = List.of("TERM", "INT", "HUP");

    private final CountDownLatch requested = new CountDownLatch(1);
    private final List<Runnable> restore = new ArrayList<>();

    private StopSignals() {
    }

    /**
     * Handles SIGTERM, SIGINT and SIGHUP from now on. A signal the JVM keeps for itself (as with {@code java -Xrs}) is left
     * to it: the shutdown hook still stops the service cleanly, with the JVM's exit status.
     */
    static StopSignals install() {
        StopSignals signals = new StopSignals();
        for (String name : NAMES) {
            Signal signal = new Signal(name);
            try {
                SignalHandler previous = Signal.handle(signal, received -> signals.requested.countDown());
                if (previous == SignalHandler.SIG_IGN) {
                    Signal.handle(signal, SignalHandler.SIG_IGN);
                    continue;
                }
                signals.restore.add(() -> Signal.handle(signal, previous));
            } catch (IllegalArgumentException keptByTheJvm) {
                // see above
            }
        }
        return signals;
    }

    /** Returns once a stop was requested. */
    void await() throws InterruptedException {
        requested.await();
    }

    /** Gives the signals back to the JVM. */
    @Override
    public void close() {
        restore.forEach(Runnable::run);
    }
}
