package io.stowage.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stowage.alert.BackupEvent;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stowage's own Prometheus metrics, next to Camel's route metrics on the management server's /observe/metrics:
 * <ul>
 *   <li>{@code stowage_backup_duration_seconds{job,type}} (count, sum, max)</li>
 *   <li>{@code stowage_backup_size_bytes{job,type}} and {@code stowage_backup_stored_bytes{job,type}}, of the last
 *       success</li>
 *   <li>{@code stowage_backup_last_success_timestamp_seconds{job,type}}</li>
 *   <li>{@code stowage_backup_failures_total{job,type}}</li>
 *   <li>{@code stowage_backup_stale{job,type}}: 1 while the last success is older than the schedule allows</li>
 *   <li>{@code stowage_verify_last_success_timestamp_seconds{job,type="verify"}},
 *       {@code stowage_restore_duration_seconds{job}} and {@code stowage_restore_objective_seconds{job}}</li>
 * </ul>
 * The last success of each job and type is also what staleness checks read.
 */
public final class BackupMetrics {
    private final MeterRegistry registry;
    private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> size = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> stored = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> stale = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastArchive = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastVerified = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> restoreObjective = new ConcurrentHashMap<>();

    public BackupMetrics(MeterRegistry registry) {
        this.registry = registry == null ? new SimpleMeterRegistry() : registry;
    }

    private static String key(String job, String type) {
        return job + "\u0000" + type;
    }

    private AtomicLong gauge(Map<String, AtomicLong> map, String name, String unit, String help, String job, String type) {
        return map.computeIfAbsent(key(job, type), k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(name, value, AtomicLong::doubleValue).baseUnit(unit).description(help)
                    .tag("job", job).tag("type", type).register(registry);
            return value;
        });
    }

    /** Registers a job's series so they exist (at 0) before its first backup. */
    public void declare(String job, String type) {
        gauge(lastSuccess, "stowage.backup.last.success.timestamp", "seconds",
                "Unix time of the last successful backup", job, type);
        gauge(stale, "stowage.backup.stale", null, "1 while the job's last success is too old", job, type);
        failures(job, type);
    }

    private Counter failures(String job, String type) {
        return Counter.builder("stowage.backup.failures").description("Backups that failed after all attempts")
                .tag("job", job).tag("type", type).register(registry);
    }

    /** Sets the last success from the catalog, at start-up. */
    public void lastSuccess(String job, String type, Instant finished) {
        AtomicLong value = gauge(lastSuccess, "stowage.backup.last.success.timestamp", "seconds",
                "Unix time of the last successful backup", job, type);
        value.accumulateAndGet(finished.getEpochSecond(), Math::max);
    }

    public Optional<Instant> lastSuccess(String job, String type) {
        AtomicLong value = lastSuccess.get(key(job, type));
        return value == null || value.get() == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(value.get()));
    }

    public void record(BackupEvent event) {
        switch (event.kind()) {
            case SUCCESS -> {
                Timer.builder("stowage.backup.duration").description("Time a backup took")
                        .tag("job", event.job()).tag("type", event.type()).register(registry).record(event.duration());
                gauge(size, "stowage.backup.size", "bytes", "Bytes the last backup read from the database",
                        event.job(), event.type()).set(event.sizeBytes());
                gauge(stored, "stowage.backup.stored", "bytes", "Bytes the last backup stored", event.job(),
                        event.type()).set(event.storedBytes());
                lastSuccess(event.job(), event.type(), event.at());
                failures(event.job(), event.type());
            }
            case FAILURE -> failures(event.job(), event.type()).increment();
            case STALE -> gauge(stale, "stowage.backup.stale", null, "1 while the job's last success is too old",
                    event.job(), event.type()).set(1);
            case FRESH -> gauge(stale, "stowage.backup.stale", null, "1 while the job's last success is too old",
                    event.job(), event.type()).set(0);
            default -> {
                // STARTED is not measured
            }
        }
    }

    /** A WAL file is in every repository: counts it, and its time is the job's recovery point. */
    public void walArchived(String job, long storedBytes) {
        Counter.builder("stowage.archive.segments").description("WAL files archived to every repository")
                .tag("job", job).register(registry).increment();
        Counter.builder("stowage.archive.bytes").baseUnit("bytes").description("Bytes of archived WAL, as stored")
                .tag("job", job).register(registry).increment(storedBytes);
        gauge(lastArchive, "stowage.archive.last.success.timestamp", "seconds",
                "Unix time the last WAL file was archived to every repository", job, "wal")
                .set(Instant.now().getEpochSecond());
    }

    /**
     * An attempt to ship a log file failed ({@code stowage_archive_failures_total{job}}): attempts, not files, so
     * its rate shows how hard the route is retrying.
     */
    public void logShipFailed(String job) {
        Counter.builder("stowage.archive.failures").description("Failed attempts to ship a log file to every repository")
                .tag("job", job).register(registry).increment();
    }

    /**
     * Registers a WAL archive's gauges: {@code stowage_archive_lag_seconds} (age of the oldest file waiting in the
     * spool), {@code stowage_archive_spool_bytes}, and {@code stowage_archive_rpo_seconds} (time since the last WAL
     * file reached every repository: the data at risk if the server were lost now). The recovery point is never
     * later than the oldest file still waiting in the spool, so the RPO is at least that file's age: after a restart
     * with a spool to drain it is the exposure from the first scrape on, not 0 until the first file ships; and until a
     * file ships after the start, it counts at least from the start.
     */
    public void declareWal(String job, Spool spool) {
        Gauge.builder("stowage.archive.lag", spool, s -> s.oldestSeconds())
                .baseUnit("seconds").description("Age of the oldest WAL file waiting in the spool")
                .tag("job", job).register(registry);
        Gauge.builder("stowage.archive.spool", spool, Spool::bytes)
                .baseUnit("bytes").description("Bytes of WAL waiting in the spool").tag("job", job)
                .register(registry);
        AtomicLong last = gauge(lastArchive, "stowage.archive.last.success.timestamp", "seconds",
                "Unix time the last WAL file was archived to every repository", job, "wal");
        // Nothing shipped since the start: the last file that reached every repository did so before it.
        long declared = Instant.now().getEpochSecond();
        Gauge.builder("stowage.archive.rpo", last, l -> rpoSeconds(l.get() == 0 ? declared : l.get(),
                        spool.oldestSeconds(), Instant.now().getEpochSecond()))
                .baseUnit("seconds").description("Seconds since the last WAL file was archived to every repository")
                .tag("job", job).register(registry);
    }

    /**
     * Seconds of writes at risk: since the last file reached every repository ({@code lastArchived}, Unix seconds, 0
     * when none has since the start), and at least the age of the oldest file still waiting.
     */
    static double rpoSeconds(long lastArchived, double oldestWaitingSeconds, long now) {
        double sinceLast = lastArchived == 0 ? 0 : now - lastArchived;
        return Math.max(sinceLast, oldestWaitingSeconds);
    }

    /** A log spool as the archive gauges read it, when scraped. */
    public interface Spool {
        /** Age in seconds of the oldest file waiting. */
        double oldestSeconds();

        /** Bytes waiting. */
        double bytes();
    }

    /**
     * {@code stowage_wal_receiver_up{job}}: 1 while the job's log receiver (its engine's: PostgreSQL's is
     * pg_receivewal) runs, 0 while it is being restarted.
     */
    public void declareReceiver(java.util.function.BooleanSupplier running, String job) {
        Gauge.builder("stowage.wal.receiver.up", running, r -> r.getAsBoolean() ? 1 : 0)
                .description("1 while the job's log receiver runs, 0 while it is down").tag("job", job)
                .register(registry);
    }

    public Optional<Instant> lastArchived(String job) {
        AtomicLong value = lastArchive.get(key(job, "wal"));
        return value == null || value.get() == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(value.get()));
    }

    /**
     * A verification passed: {@code stowage_verify_last_success_timestamp_seconds{job}} and the measured restore time,
     * {@code stowage_restore_duration_seconds{job}} (the RTO evidence).
     */
    public void verified(String job, java.time.Duration restoreTime) {
        gauge(lastVerified, "stowage.verify.last.success.timestamp", "seconds",
                "Unix time of the last successful verification", job, "verify").set(Instant.now().getEpochSecond());
        restoreDuration(job, restoreTime);
    }

    /**
     * The job's recovery time objective, {@code stowage_restore_objective_seconds{job}}: dashboards compare it with
     * {@code stowage_restore_duration_seconds}.
     */
    public void restoreObjective(String job, long seconds) {
        restoreObjective.computeIfAbsent(job, j -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder("stowage.restore.objective", value, AtomicLong::doubleValue).baseUnit("seconds")
                    .description("The job's recovery time objective (rtoSeconds)").tag("job", j).register(registry);
            return value;
        }).set(seconds);
    }

    public void restoreDuration(String job, java.time.Duration duration) {
        Timer.builder("stowage.restore.duration").description("Time a restore took").tag("job", job)
                .register(registry).record(duration);
    }

    public MeterRegistry registry() {
        return registry;
    }

    private final Map<String, AtomicLong> copiesMissing = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> logFilesMissing = new ConcurrentHashMap<>();

    /**
     * {@code stowage_copies_missing{job,repository}}: complete backups of the job that the repository lacks, as the
     * last catch-up round of copies found them.
     */
    public void copiesMissing(String job, String repository, long backups) {
        missingGauge(copiesMissing, "stowage.copies.missing",
                "Complete backups of the job that the repository lacks (last catch-up round)", job, repository)
                .set(backups);
    }

    /**
     * {@code stowage_copies_missing_log_files{job,repository}}: log files of the job's archive that the repository
     * lacks, as the last catch-up round that listed the archives found them.
     */
    public void logFilesMissing(String job, String repository, long files) {
        missingGauge(logFilesMissing, "stowage.copies.missing.log.files",
                "Log files of the job's archive that the repository lacks (last catch-up round that listed them)",
                job, repository).set(files);
    }

    private AtomicLong missingGauge(Map<String, AtomicLong> map, String name, String help, String job,
                                    String repository) {
        return map.computeIfAbsent(key(job, repository), k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder(name, value, AtomicLong::doubleValue).description(help).tag("job", job)
                    .tag("repository", repository).register(registry);
            return value;
        });
    }

    /**
     * The recovery point objective of a job's log archive (its log route's {@code rpoSeconds}),
     * {@code stowage_archive_rpo_objective_seconds{job}}: the alert rules compare the archive's lag and RPO with it.
     */
    public void archiveObjective(String job, long seconds) {
        Gauge.builder("stowage.archive.rpo.objective", () -> seconds).baseUnit("seconds")
                .description("The job's recovery point objective for its log archive (rpoSeconds)").tag("job", job)
                .register(registry);
    }

    private final Map<String, AtomicLong> storedBytes = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> oldestRestorable = new ConcurrentHashMap<>();

    /** {@code stowage_expired_backups_total{job,repository}}: backups expiry removed. */
    public void expired(String job, String repository) {
        Counter.builder("stowage.expired.backups").description("Backups removed by expiry").tag("job", job)
                .tag("repository", repository).register(registry).increment();
    }

    /**
     * {@code stowage_repository_stored_bytes{repository,job,storage_class}}: the bytes of the job's complete backups
     * in the repository, as stored (compressed, encrypted), as the last expiry (or check) found them.
     */
    public void storedBytes(String repository, String job, String storageClass, long bytes) {
        storedBytes.computeIfAbsent(repository + "\u0000" + job + "\u0000" + storageClass, k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder("stowage.repository.stored", value, AtomicLong::doubleValue).baseUnit("bytes")
                    .description("Bytes of the job's complete backups in the repository, as stored")
                    .tag("repository", repository).tag("job", job).tag("storage_class", storageClass)
                    .register(registry);
            return value;
        }).set(bytes);
    }

    /**
     * {@code stowage_oldest_restorable_timestamp_seconds{job,repository}}: the oldest point the repository can restore
     * the job to (the end of its oldest kept, undamaged backup), as the last expiry found it; 0 when it holds none.
     */
    public void oldestRestorable(String job, String repository, Instant at) {
        oldestRestorable.computeIfAbsent(key(job, repository), k -> {
            AtomicLong value = new AtomicLong();
            Gauge.builder("stowage.oldest.restorable.timestamp", value, AtomicLong::doubleValue).baseUnit("seconds")
                    .description("Unix time of the oldest point the repository can restore the job to")
                    .tag("job", job).tag("repository", repository).register(registry);
            return value;
        }).set(at == null ? 0 : at.getEpochSecond());
    }
}
