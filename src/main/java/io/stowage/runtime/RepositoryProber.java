package io.stowage.runtime;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.stowage.Secrets;
import io.stowage.repository.Repository;
import io.stowage.repository.S3Repository;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every repository in the background ({@link Repository#check}, every
 * {@code stowage.health.repository-interval-seconds}) and keeps the last result of each, for the health check and
 * the metrics, which read it and never call a repository: a scrape answers at once whatever the repositories do.
 *
 * <p>Each repository has a thread of its own and at most one probe in flight: while a probe waits on a repository
 * that does not answer, no other probe of it starts (no threads pile up), and once the probe has waited longer than
 * the repository's call bound it counts as down ("did not answer within N s"), although its call is still running.
 *
 * <p>Metrics: {@code stowage_repository_up{repository}} (1 or 0), {@code stowage_repository_check_seconds{repository}}
 * (how long the last check took, or how long the one in flight has waited, whichever is longer) and
 * {@code stowage_repository_check_timestamp_seconds{repository}} (when the last check ended).
 */
public final class RepositoryProber implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryProber.class);
    /** The bound of a check of a repository that has no call timeout of its own (a local disk). */
    static final Duration LOCAL_BOUND = Duration.ofSeconds(30);

    /** What the health check and the metrics show of one repository. */
    public record Status(String repository, boolean up, String message, Instant checkedAt, Duration took) {
    }

    private record Result(boolean up, String message, Instant checkedAt, long tookNanos) {
    }

    private final class Probe {
        final Repository repository;
        final Duration bound;
        final ExecutorService thread;
        volatile Future<?> inFlight;
        volatile long startedNanos;
        volatile Result last;

        Probe(Repository repository) {
            this.repository = repository;
            this.bound = repository.unwrap() instanceof S3Repository s3 ? s3.timeouts().call() : LOCAL_BOUND;
            this.thread = Executors.newSingleThreadExecutor(r -> daemon(r, "stowage-probe-" + repository.name()));
        }

        /** Starts a check unless one is in flight. */
        synchronized void start() {
            if (inFlight != null && !inFlight.isDone()) {
                return;
            }
            startedNanos = clock.getAsLong();
            inFlight = thread.submit(this::run);
        }

        private void run() {
            long started = startedNanos;
            Result result;
            try {
                // The driver itself: a retry is the next probe, and its own call bound applies.
                repository.unwrap().check();
                result = new Result(true, null, Instant.now(), clock.getAsLong() - started);
            } catch (Exception e) {
                result = new Result(false, Secrets.mask(String.valueOf(e.getMessage())), Instant.now(),
                        clock.getAsLong() - started);
            }
            Result before = last;
            last = result;
            if (before == null || before.up() != result.up()) {
                if (result.up()) {
                    LOG.info("repository {} answers", repository.name());
                } else {
                    LOG.warn("repository {} is not usable: {}", repository.name(), result.message());
                }
            }
        }

        Status status() {
            Result result = last;
            Future<?> pending = inFlight;
            long waiting = pending != null && !pending.isDone() ? clock.getAsLong() - startedNanos : 0;
            if (waiting > bound.toNanos()) {
                return new Status(repository.name(), false, "repository '" + repository.name() + "' did not answer "
                        + "within " + bound.toSeconds() + " s (still checking for "
                        + TimeUnit.NANOSECONDS.toSeconds(waiting) + " s)",
                        result == null ? null : result.checkedAt(), Duration.ofNanos(waiting));
            }
            if (result == null) {
                return new Status(repository.name(), false, "repository '" + repository.name()
                        + "' has not been checked yet", null, Duration.ofNanos(waiting));
            }
            return new Status(repository.name(), result.up(), result.message(), result.checkedAt(),
                    Duration.ofNanos(Math.max(result.tookNanos(), waiting)));
        }
    }

    private final List<Probe> probes = new ArrayList<>();
    private final Duration interval;
    private final LongSupplier clock;
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "stowage-probe-ticker"));

    public RepositoryProber(List<Repository> repositories, Duration interval) {
        this(repositories, interval, System::nanoTime);
    }

    RepositoryProber(List<Repository> repositories, Duration interval, LongSupplier clock) {
        this.interval = interval;
        this.clock = clock;
        for (Repository repository : repositories) {
            probes.add(new Probe(repository));
        }
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }

    /**
     * Starts probing: a first check of every repository now, then one every interval. Waits up to {@code firstRound}
     * for the first checks to end, so that the service's first answers show what was found.
     */
    public RepositoryProber start(Duration firstRound) {
        probes.forEach(Probe::start);
        ticker.scheduleWithFixedDelay(() -> probes.forEach(Probe::start), interval.toMillis(), interval.toMillis(),
                TimeUnit.MILLISECONDS);
        long deadline = System.nanoTime() + firstRound.toNanos();
        for (Probe probe : probes) {
            Future<?> pending = probe.inFlight;
            long left = deadline - System.nanoTime();
            if (pending == null || left <= 0) {
                continue;
            }
            try {
                pending.get(left, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // Shown by the status: still checking.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return this;
    }

    /** Checks every repository again now (unless a check of it is in flight). */
    public void probeNow() {
        probes.forEach(Probe::start);
    }

    /** The state of every repository, in the configured order, from the last checks: never calls a repository. */
    public List<Status> statuses() {
        return probes.stream().map(Probe::status).toList();
    }

    /** The repositories that are down, by name, with why. */
    public Map<String, String> problems() {
        Map<String, String> problems = new LinkedHashMap<>();
        for (Status status : statuses()) {
            if (!status.up()) {
                problems.put(status.repository(), status.message());
            }
        }
        return problems;
    }

    /** Registers {@code stowage_repository_up}, {@code _check_seconds} and {@code _check_timestamp_seconds}. */
    public void register(MeterRegistry registry) {
        for (Probe probe : probes) {
            String name = probe.repository.name();
            Gauge.builder("stowage.repository.up", probe, p -> p.status().up() ? 1 : 0)
                    .description("1 while the repository answered its last check within its bound, else 0")
                    .tag("repository", name).register(registry);
            Gauge.builder("stowage.repository.check", probe, p -> p.status().took().toNanos() / 1e9)
                    .baseUnit("seconds")
                    .description("How long the repository's last check took, or how long the one in flight has waited")
                    .tag("repository", name).register(registry);
            Gauge.builder("stowage.repository.check.timestamp", probe,
                            p -> p.last == null ? 0 : p.last.checkedAt().getEpochSecond())
                    .baseUnit("seconds").description("Unix time the repository's last check ended")
                    .tag("repository", name).register(registry);
        }
    }

    /** Stops probing; a probe still waiting on a repository is interrupted, and its daemon thread ends with it. */
    @Override
    public void close() {
        ticker.shutdownNow();
        for (Probe probe : probes) {
            probe.thread.shutdownNow();
        }
    }
}
