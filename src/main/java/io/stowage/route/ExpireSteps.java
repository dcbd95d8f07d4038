package io.stowage.route;

import io.stowage.alert.AlertSettings;
import io.stowage.alert.BackupEvent;
import io.stowage.audit.AuditLog;
import io.stowage.job.Job;
import io.stowage.retention.Expiry;
import io.stowage.services.StowageServices;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expiry in the service: {@code stowage:expire} after each successful backup of a job (in the run-backup route, still
 * holding the job's lock), and {@code stowage:expire-all} on {@code stowage.expire.cron}. Neither ever fails its
 * exchange: the body becomes the alert events to send (a failure opens the job's {@code expire} alert, dedup key
 * {@code stowage/<job>/expire}; the next expiry that succeeds resolves it).
 */
final class ExpireSteps {
    private static final Logger LOG = LoggerFactory.getLogger(ExpireSteps.class);

    private ExpireSteps() {
    }

    /** {@code stowage:expire}: expires the job of the backup that has just succeeded. */
    static final class AfterBackup implements Step {
        AfterBackup(Map<String, String> parameters) {
            Steps.noParameters(parameters, "expire");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
            if (run == null || run.completeIn.isEmpty()) {
                exchange.getIn().setBody(List.of());
                return;
            }
            // The backup's exchange holds the job's lock until it completes: expiry runs under it.
            Expiry.JobLocks held = (job, wait) -> Optional.of(() -> { });
            List<BackupEvent> events = expire(services, held, run.job.name());
            events.stream().filter(e -> e.kind().bad()).forEach(e -> run.warnings.add(e.error()));
            exchange.getIn().setBody(events);
        }
    }

    /** {@code stowage:expire-all}: expires every job, each under its lock. */
    static final class All implements Step {
        All(Map<String, String> parameters) {
            Steps.noParameters(parameters, "expire-all");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            Path home = services.repositories().home().root();
            Expiry.JobLocks locks = (job, wait) -> JobLock.tryAcquire(home, job, wait).map(l -> (AutoCloseable) l);
            List<BackupEvent> events = new ArrayList<>();
            for (Job job : services.jobs().all()) {
                events.addAll(expire(services, locks, job.name()));
            }
            exchange.getIn().setBody(events);
        }
    }

    /** One job's expiry, logged; its alert events. */
    static List<BackupEvent> expire(StowageServices services, Expiry.JobLocks locks, String jobName) {
        Job job = services.jobs().get(jobName);
        Instant started = Instant.now();
        Expiry.Report report;
        try {
            report = new Expiry(services, locks, Clock.systemUTC()).run(new Expiry.Options(jobName, null, false));
        } catch (RuntimeException e) {
            Expiry.Report failed = new Expiry.Report();
            failed.failures().add("job " + jobName + ": " + io.stowage.Failures.describe(e));
            report = failed;
        }
        report.skipped().forEach(line -> LOG.warn("expiry: {}", line));
        if (report.expired() > 0 || report.logObjects() > 0 || report.orphans() > 0) {
            LOG.info("expiry of job {}: {} backup(s), {} log object(s), {} incomplete backup(s) removed", jobName,
                    report.expired(), report.logObjects(), report.orphans());
        }
        String key = "stowage/" + jobName + "/expire";
        String severity = AlertSettings.severity(job.parameter("severity", null));
        Duration took = Duration.between(started, Instant.now());
        if (!report.failures().isEmpty()) {
            String error = "expiry failed: " + String.join("; ", report.failures());
            LOG.error("{}", error);
            return List.of(new BackupEvent(BackupEvent.Kind.FAILURE, jobName, job.engine(), "expire", null, "schedule",
                    Instant.now(), took, 0, 0, error, 1, severity, AuditLog.host()));
        }
        if (report.skipped().isEmpty() && services.alertState().isOpen(key)) {
            return List.of(new BackupEvent(BackupEvent.Kind.SUCCESS, jobName, job.engine(), "expire", null, "schedule",
                    Instant.now(), took, 0, 0, null, 1, severity, AuditLog.host()));
        }
        return List.of();
    }
}
