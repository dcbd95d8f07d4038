package io.stowage.route;

import io.stowage.services.LogFiles;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of each log-shipping route (the file consumer that feeds {@code stowage:wal-ship}), and the poll strategy
 * that holds such a route back after a failed ship: the bean {@value #BEAN}, which the route names as
 * {@code pollStrategy=#stowageLogShipping}.
 *
 * <p>After a file fails to ship (a repository down), the route's next poll waits: {@code retryDelay} after the first
 * failure, twice as long after each next one, never longer than {@code retryMaxDelay}. A skipped poll reads nothing,
 * so the file that failed is the one tried again, before any newer one, and nothing is compressed or written while
 * waiting. A success ends the wait. The failure is logged once when it starts (and again every {@link #REMINDER}
 * while it lasts), with the number of attempts, and once more when the file is shipped.
 */
public final class LogShipping implements PollingConsumerPollStrategy {
    /** The bean's name in the registry. */
    public static final String BEAN = "stowageLogShipping";
    static final Duration REMINDER = Duration.ofMinutes(10);
    private static final Logger LOG = LoggerFactory.getLogger(LogShipping.class);

    private final Map<String, Route> routes = new ConcurrentHashMap<>();

    /** Makes {@code route} the state of the route consuming {@code endpoint}: its polls ask it. */
    void attach(Endpoint endpoint, Route route) {
        routes.putIfAbsent(endpoint.getEndpointUri(), route);
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        Route route = routes.get(endpoint.getEndpointUri());
        return route == null || route.mayAttempt(System.nanoTime());
    }

    @Override
    public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
    }

    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
        return false; // a failed directory listing: the consumer logs it; the next scheduled poll tries again
    }

    /** One route's shipping: the file it is on, how it is going, and when it may try again. */
    static final class Route {
        final LogFiles.Progress progress = new LogFiles.Progress();
        private String failingFile;
        private int failures;
        private long failingSince;
        private long lastLogged;
        private long nextAttempt;

        synchronized boolean mayAttempt(long now) {
            return failures == 0 || now - nextAttempt >= 0;
        }

        /** The file shipped: ends a run of failures, saying so once. */
        synchronized void shipped(String job, String file) {
            if (failures > 0) {
                LOG.info("log file {} of job {} shipped after {} failed attempt(s) over {} s", file, job, failures,
                        Duration.ofNanos(System.nanoTime() - failingSince).toSeconds());
            }
            failures = 0;
            failingFile = null;
        }

        /**
         * An attempt failed: when the next one may start ({@code retryDelay} doubled per failure up to
         * {@code retryMaxDelay}), and one log line when this is new.
         */
        synchronized Duration failed(String job, String file, String reason, Duration retryDelay,
                                     Duration retryMaxDelay) {
            long now = System.nanoTime();
            if (!file.equals(failingFile)) {
                failures = 0;
                failingFile = file;
                failingSince = now;
            }
            failures++;
            Duration wait = backoff(failures, retryDelay, retryMaxDelay);
            nextAttempt = now + wait.toNanos();
            if (failures == 1 || now - lastLogged >= REMINDER.toNanos()) {
                LOG.warn("log file {} of job {} cannot be shipped ({} attempt(s) so far, next in {} s; it stays in "
                                + "the spool, and newer files wait behind it): {}", file, job, failures,
                        String.format(java.util.Locale.ROOT, "%.1f", wait.toMillis() / 1000.0), reason);
                lastLogged = now;
            } else {
                LOG.debug("log file {} of job {}: attempt {} failed: {}", file, job, failures, reason);
            }
            return wait;
        }

        synchronized int failures() {
            return failures;
        }
    }

    /** The wait after the {@code failures}-th failure in a row: {@code delay} doubled, at most {@code max}. */
    static Duration backoff(int failures, Duration delay, Duration max) {
        long millis = Math.max(1, delay.toMillis());
        for (int i = 1; i < failures && millis < max.toMillis(); i++) {
            millis *= 2;
        }
        return Duration.ofMillis(Math.min(millis, Math.max(max.toMillis(), delay.toMillis())));
    }
}
