package io.stowage.runtime;

import io.stowage.audit.AuditLog;
import io.stowage.engine.LogArchive;
import io.stowage.schedule.WalArchive;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service ({@code stowage run}): the runtime with schedules, staleness checks, the management server
 * (health and metrics) and the repositories' health check; a pg_receivewal for each WAL route that asks for one; audited at start and stop; schedules missed while it was
 * down run once at start. One service per local repository ({@link InstanceLock}), held from start to the end of
 * {@link #close}.
 */
public final class StowageService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StowageService.class);
    /** How long the start waits for the first check of the repositories. */
    private static final Duration FIRST_ROUND = Duration.ofSeconds(5);

    private final StowageRuntime runtime;
    private final long started = System.nanoTime();
    private final RepositoriesHealthCheck health;
    private final RepositoryProber prober;
    private final List<LogArchive.Receiver> receivers = new ArrayList<>();
    private boolean closed;

    private StowageService(StowageRuntime runtime, RepositoriesHealthCheck health, RepositoryProber prober) {
        this.runtime = runtime;
        this.health = health;
        this.prober = prober;
    }

    public static StowageService start(Path config) {
        StowageRuntime runtime = StowageRuntime.start(config, true);
        for (WalArchive archive : WalArchive.from(runtime.context())) {
            java.util.Optional<String> unusable = archive.spoolProblem(logArchive(runtime, archive)
                    .serviceFillsSpool(archive.parameters()));
            if (unusable.isPresent()) {
                // Running without it would archive nothing for the job while looking healthy.
                runtime.close();
                throw io.stowage.StowageException.usage("invalid configuration: WAL of job '" + archive.job() + "': "
                        + unusable.get());
            }
        }
        // Health and metrics read what the prober found; a first round is waited for (briefly) so that the first
        // answers show it, and a repository that does not answer then shows as down once its call bound has passed.
        RepositoryProber prober = new RepositoryProber(runtime.services().repositories().all(), Duration.ofSeconds(
                runtime.services().settings().number("stowage.health.repository-interval-seconds")))
                .start(FIRST_ROUND);
        prober.register(runtime.services().metrics().registry());
        RepositoriesHealthCheck health = new RepositoriesHealthCheck(prober, runtime.context());
        org.apache.camel.health.HealthCheckRegistry registry =
                org.apache.camel.health.HealthCheckRegistry.get(runtime.context());
        if (registry != null) {
            registry.register(health);
        }
        StowageService service = new StowageService(runtime, health, prober);
        LOG.info("stowage started with jobs {} and schedules {}",
                runtime.services().jobs().all().stream().map(j -> j.name()).toList(),
                runtime.services().schedules().schedules().stream().map(s -> s.routeId() + " '" + s.cron() + "' "
                        + s.timeZone()).toList());
        try {
            for (WalArchive archive : WalArchive.from(runtime.context())) {
                io.stowage.job.Job job = runtime.services().jobs().get(archive.job());
                java.util.Optional<LogArchive.Receiver> receiver = logArchive(runtime, archive).receiver(job,
                        archive.parameters(), runtime.services().context(warning -> LOG.warn("{}", warning)));
                if (receiver.isPresent()) {
                    service.receivers.add(receiver.get());
                    runtime.services().metrics().declareReceiver(receiver.get()::running, archive.job());
                    receiver.get().start();
                }
            }
        } catch (RuntimeException e) {
            try {
                service.close();
            } catch (RuntimeException alsoFailed) {
                e.addSuppressed(alsoFailed);
            }
            throw e;
        }
        // The copies of the line to the remote repositories are not waited for: one that does not answer would hold up
        // the start for its call timeout.
        runtime.services().audit().record(new AuditLog.Entry("service-start", null, null, "success", null, null),
                Duration.ZERO);
        runtime.services().schedules().catchUp(runtime.context().createProducerTemplate());
        return service;
    }

    /** The log archive of the job a log route serves (the runtime refused a route whose job keeps none). */
    private static LogArchive logArchive(StowageRuntime runtime, WalArchive archive) {
        io.stowage.job.Job job = runtime.services().jobs().get(archive.job());
        return runtime.services().engines().get(job.engine()).logArchive().orElseThrow();
    }

    public StowageRuntime runtime() {
        return runtime;
    }

    public RepositoriesHealthCheck health() {
        return health;
    }

    /**
     * Stops the routes; an in-flight backup gets camel.main.shutdown-timeout seconds to finish. Throws (after the
     * stop is complete and audited) when that time ran out with work still in flight: it was cut short, and the
     * operator must hear of it. Synchronized, so that a second caller (a shutdown hook) returns only once the
     * service is down.
     */
    /** How long the stop waits for its audit line's copies to the remote repositories (the local line is written). */
    private static final Duration AUDIT_STOP_WAIT = Duration.ofSeconds(5);

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long timeout = runtime.context().getShutdownStrategy().getTimeout();
        LOG.info("stopping: in-flight backups get up to {} s to finish", timeout);
        try {
            prober.close();
            receivers.forEach(LogArchive.Receiver::close); // a receiver flushes what it has; the spool keeps it
            runtime.close();
            String cutShort = runtime.context().getShutdownStrategy().hasTimeoutOccurred()
                    ? "the service stopped before its in-flight work finished: camel.main.shutdown-timeout ("
                            + timeout + " s) ran out; a backup cut short has no manifest, is never listed and is "
                            + "removed by the next backup of its job; HINT: raise camel.main.shutdown-timeout"
                    : null;
            runtime.services().audit().record(new AuditLog.Entry("service-stop", null, null,
                    cutShort == null ? "success" : "failure", Duration.ofNanos(System.nanoTime() - started), cutShort),
                    AUDIT_STOP_WAIT);
            if (cutShort != null) {
                throw new io.stowage.StowageException(cutShort);
            }
            LOG.info("stopped");
        } finally {
            // Last: a new service may start once this one has stopped and written its last audit line.
            runtime.releaseInstance();
        }
    }
}
