package io.stowage.cli;

import io.stowage.job.Job;
import io.stowage.verify.Verification;
import io.stowage.runtime.StowageRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code verify JOB [--backup ID|latest]}: checksums every object, restores into a scratch target, probes it, and
 * compares the restore time with the job's RTO objective. A missed objective is a warning: the backup is proven.
 */
@Command(name = "verify", description = "Prove a backup of JOB: check every object's SHA-256, restore it into a scratch "
        + "database, run the probes, compare the restore time with the job's RTO objective, and record the result.")
final class VerifyCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", description = "The job whose backup to verify.")
    String jobName;

    @Option(names = "--backup", paramLabel = "ID", defaultValue = "latest", description = "A backup id, or latest "
            + "(default).")
    String backup;

    @Override
    public Integer call() throws Exception {
        try (io.stowage.Interruption.Command running = stoppable("verification of job '" + jobName + "'");
             StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            warnAboutExposedKeys(runtime);
            Verification.Outcome outcome = new Verification(runtime.services(), this::warn).run(job, backup);
            if (!outcome.passed()) {
                throw outcome.failure();
            }
            Verification.Result result = outcome.result();
            double seconds = result.restoreTime().toMillis() / 1000.0;
            out().printf("verified backup %s of job %s: every object's SHA-256 matches; restored in %.1f s (RTO; "
                    + "objective %d s); %s%s%n", result.backup().id(), job.name(),
                    seconds, result.rtoSeconds(), result.summary(),
                    result.operatorProbes() == 0 ? "" : "; " + result.operatorProbes() + " operator probe(s) passed");
            out().flush();
            if (!result.rtoMet()) {
                warn(String.format(java.util.Locale.ROOT, "the restore took %.1f s, over job %s's RTO objective of "
                        + "%d s (rtoSeconds)", seconds, job.name(), result.rtoSeconds()));
            }
            return 0;
        }
    }
}
