package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.retention.Expiry;
import io.stowage.retention.Planner;
import io.stowage.route.JobLock;
import io.stowage.runtime.StowageRuntime;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code expire [JOB] [--repository NAME] [--dry-run]}: applies the retention policies (docs/retention.md). The dry run
 * prints each backup, its age, whether it is kept or expires, and why, and what would go from the log archive; the
 * real run does it. Exit 0 when everything the policies release is gone, 1 naming what is not.
 */
@Command(name = "expire", description = "Remove the backups (and log files) the retention policies release; "
        + "--dry-run shows each decision and why.")
final class ExpireCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", arity = "0..1", description = "Only this job (default: every job).")
    String job;

    @Option(names = "--repository", paramLabel = "NAME", description = "Only in this repository.")
    String repository;

    @Option(names = "--dry-run", description = "Print every decision and its reason, and delete nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        try (io.stowage.Interruption.Command running = stoppable("expiry");
             StowageRuntime runtime = startLightRuntime()) {
            var services = runtime.services();
            if (job != null) {
                services.jobs().get(job);
            }
            Path home = services.repositories().home().root();
            Expiry expiry = new Expiry(services, (name, wait) -> JobLock.tryAcquire(home, name, wait)
                    .map(lock -> (AutoCloseable) lock), Clock.systemUTC());
            Expiry.Report report = expiry.run(new Expiry.Options(job, repository, dryRun));
            print(report, Instant.now());
            List<String> failures = report.failures();
            List<String> skipped = report.skipped();
            // Each skipped job once: a warning, or the error line itself when nothing else failed.
            skipped.subList(failures.isEmpty() && !skipped.isEmpty() ? 1 : 0, skipped.size()).forEach(this::warn);
            if (!failures.isEmpty()) {
                throw new StowageException(failures.size() == 1 ? "expiry failed: " + failures.get(0)
                        : "expiry failed in " + failures.size() + " places: " + String.join("; ", failures));
            }
            if (!skipped.isEmpty()) {
                throw new StowageException(skipped.get(0));
            }
            if (!dryRun) {
                out().println("expired " + report.expired() + " backup(s), " + report.logObjects()
                        + " log object(s), " + report.orphans() + " incomplete backup(s)");
            }
            out().flush();
            return 0;
        }
    }

    private void print(Expiry.Report report, Instant now) {
        if (report.rows().isEmpty()) {
            if (report.skipped().isEmpty()) { // a skipped job's backups were not looked at: it says so on stderr
                out().println("no backups" + (job == null ? "" : " of job " + job));
            }
        } else {
            String format = "%-16s  %-12s  %-20s  %-4s  %8s  %-6s  %s%n";
            out().printf(format, "JOB", "REPOSITORY", "ID", "TYPE", "AGE", dryRun ? "WOULD" : "RESULT", "WHY");
            for (Expiry.Row row : report.rows()) {
                Planner.Decision d = row.decision();
                out().printf(format, row.job(), row.repository(), d.backup().id(), d.backup().type().id(),
                        age(Duration.between(d.backup().finished(), now)), row.outcome().word(), d.reason()
                                + (row.note() == null ? "" : " [" + row.note() + "]"));
            }
        }
        report.lines().forEach(out()::println);
    }

    /** {@code 3d4h}, {@code 5h12m}, {@code 40s}. */
    static String age(Duration age) {
        long s = Math.max(0, age.getSeconds());
        if (s >= 86_400) {
            return s / 86_400 + "d" + (s % 86_400) / 3600 + "h";
        }
        if (s >= 3600) {
            return s / 3600 + "h" + (s % 3600) / 60 + "m";
        }
        return s >= 60 ? s / 60 + "m" : s + "s";
    }
}
