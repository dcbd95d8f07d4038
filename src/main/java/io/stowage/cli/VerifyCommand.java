package io.stowage.cli;

import io.stowage.Failures;
import io.stowage.audit.AuditLog;
import io.stowage.job.Job;
import io.stowage.restore.Verification;
import io.stowage.runtime.StowageRuntime;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code verify JOB [--backup ID|latest]}: checksums every object, restores into a scratch target, probes it. */
@Command(name = "verify", description = "Prove a backup of JOB: check every object's SHA-256, restore it into a scratch "
        + "database, run the probes, and record the result.")
final class VerifyCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", description = "The job whose backup to verify.")
    String jobName;

    @Option(names = "--backup", paramLabel = "ID", defaultValue = "latest", description = "A backup id, or latest "
            + "(default).")
    String backup;

    @Override
    public Integer call() throws Exception {
        try (StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            long started = System.nanoTime();
            Verification.Result result;
            try {
                result = new Verification(runtime.services(), this::warn).verify(job, backup);
            } catch (Exception e) {
                runtime.services().audit().record(new AuditLog.Entry("verify", job.name(), backup, "failure",
                        Duration.ofNanos(System.nanoTime() - started), Failures.describe(e)));
                throw e;
            }
            runtime.services().audit().record(new AuditLog.Entry("verify", job.name(), result.backup().id(), "success",
                    Duration.ofNanos(System.nanoTime() - started), null));
            out().printf("verified backup %s of job %s: every object's SHA-256 matches; restored in %.1f s (RTO); "
                    + "%d tables, %d rows read; indexes valid%n", result.backup().id(), job.name(),
                    result.restoreTime().toMillis() / 1000.0, result.tables(), result.rows());
            out().flush();
            return 0;
        }
    }
}
