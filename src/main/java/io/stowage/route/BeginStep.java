package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:begin?job=NAME}: starts a backup. Takes the job's lock (no two backups of a job overlap), checks
 * the requested type against what the job supports, removes what interrupted backups of this job left behind in the
 * repository the backup is streamed into (no manifest means incomplete, and nothing else can be writing under the
 * lock; the other repositories are cleaned up before the first copy to them), and allocates the backup id.
 */
final class BeginStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(BeginStep.class);

    /** Exchange property: how many times this exchange has begun a backup (1, then 2 on the first retry, ...). */
    static final String ATTEMPTS = "StowageAttempts";

    private final String jobName;

    BeginStep(Map<String, String> parameters) {
        this.jobName = Steps.required(parameters, "job", "begin");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        Job job = services.jobs().get(jobName);
        BackupType type = BackupType.of(exchange.getIn().getHeader(BackupRun.TYPE_HEADER, "full", String.class));
        services.engines().get(job.engine()).capabilities().requireType(job, type);
        exchange.setProperty(ATTEMPTS, exchange.getProperty(ATTEMPTS, 0, Integer.class) + 1);
        // A retry of the same exchange first lets go of the lock its failed attempt held.
        BackupRun previous = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
        if (previous != null && previous.lock != null) {
            previous.lock.close();
        }
        JobLock lock = acquire(services, job, exchange);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                lock.close();
            }
        });
        List<Repository> repositories = services.repositories().forJob(job.name(), job.parameters().get("repositories"));
        // Only the repository the backup is streamed into: a remote one that does not answer must never hold up the
        // local backup. The others are cleaned up just before the first copy to them (stowage:copy).
        try {
            removeIncomplete(repositories.get(0), job.name(), null, incompleteBefore(services, repositories.get(0)));
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot clean up incomplete backups of job {} in repository {}: {}", job.name(),
                    repositories.get(0).name(), e.getMessage());
        }
        Instant started = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        String id = BackupId.of(started, type);
        while (!repositories.get(0).children(job.name() + "/" + id + "/").isEmpty()) {
            started = started.plusSeconds(1);
            id = BackupId.of(started, type);
        }
        BackupRun run = new BackupRun(job, type, id, started);
        run.lock = lock;
        exchange.setProperty(BackupRun.PROPERTY, run);
        LOG.info("backup {} of job {} started", id, job.name());
    }

    /**
     * The job's lock. A scheduled backup that finds another backup of its job running waits for it (up to
     * {@code stowage.schedule.lock-wait-seconds}); a command fails at once, telling the operator.
     */
    private static JobLock acquire(StowageServices services, Job job, Exchange exchange) throws Exception {
        boolean wait = !"command".equals(exchange.getIn().getHeader(StowageServices.TRIGGER_HEADER, "command",
                String.class));
        Path root = services.repositories().home().root();
        if (!wait) {
            return JobLock.acquire(root, job.name());
        }
        return JobLock.acquire(root, job.name(),
                java.time.Duration.ofSeconds(services.settings().number("stowage.schedule.lock-wait-seconds")));
    }

    /**
     * Which incomplete backups a backup of the job may remove from {@code repository}: in the home repository (the
     * local one that holds the job's lock), every one, since nothing else can be writing there while the lock is held;
     * anywhere else (S3, a NAS) another host may be writing a backup of the same job without this lock, so only those
     * that started more than {@code stowage.expire.incomplete-after-hours} ago (null: no limit).
     */
    static Instant incompleteBefore(StowageServices services, Repository repository) {
        if (repository.name().equals(services.repositories().home().name())) {
            return null;
        }
        return Instant.now().minus(java.time.Duration.ofHours(
                services.settings().number("stowage.expire.incomplete-after-hours")));
    }

    /**
     * Deletes the objects of every backup of {@code job} in {@code repository} that has no manifest, except backup
     * {@code keep} (the one being written, or null) and those that started at or after {@code before} (null: no
     * limit). Reads only the backups' own directories, one by one: the job's log archive beside them
     * ({@code <job>/wal/}) is written by its log route, which the job's lock does not cover; that route cleans its
     * directory itself.
     */
    static void removeIncomplete(Repository repository, String job, String keep, Instant before) throws IOException {
        for (String child : repository.children(job + "/")) {
            if (!child.endsWith("/")) {
                continue;
            }
            String id = child.substring(0, child.length() - 1);
            if (!BackupId.isValid(id) || id.equals(keep) || (before != null && !startOf(id).isBefore(before))) {
                continue;
            }
            String directory = job + "/" + child;
            repository.cleanUpInterruptedWrites(directory);
            List<String> keys = repository.list(directory);
            if (keys.contains(directory + Manifest.FILE_NAME)) {
                continue;
            }
            LOG.warn("removing incomplete backup {} of job {} from repository {}", id, job, repository.name());
            repository.delete(keys);
        }
    }

    /** When backup {@code id} started, from its id. */
    static Instant startOf(String id) {
        return java.time.LocalDateTime.parse(id.substring(0, 16),
                java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")).toInstant(java.time.ZoneOffset.UTC);
    }
}
