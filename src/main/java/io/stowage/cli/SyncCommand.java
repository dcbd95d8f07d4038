package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.copies.CatchUp;
import io.stowage.lock.ExclusiveLock;
import io.stowage.route.JobLock;
import io.stowage.runtime.StowageRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sync [JOB] [--repository NAME] [--dry-run]}: the service's catch-up of copies, by hand: every complete
 * backup (and log file) that one of a job's repositories holds is copied to each of the job's repositories lacking
 * it, its SHA-256 proven first. Exit 0 when everything is in place afterwards, 1 naming what is not.
 */
@Command(name = "sync", description = "Copy every complete backup (and log file) that one of a job's repositories "
        + "holds to each of the job's repositories that lacks it, proving its SHA-256 first.")
final class SyncCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", arity = "0..1", description = "Only this job (default: every job).")
    String job;

    @Option(names = "--repository", paramLabel = "NAME", description = "Only copies to this repository.")
    String repository;

    @Option(names = "--dry-run", description = "Print what is missing where, and change nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        try (io.stowage.Interruption.Command running = stoppable("sync");
             StowageRuntime runtime = startLightRuntime()) {
            var services = runtime.services();
            if (job != null) {
                services.jobs().get(job);
            }
            if (repository != null) {
                services.repositories().get(repository);
                // Copies are made only among a job's own repositories: asking for them elsewhere would always find
                // "every copy in place".
                java.util.Collection<io.stowage.job.Job> selected = job == null ? services.jobs().all()
                        : List.of(services.jobs().get(job));
                boolean used = false;
                for (io.stowage.job.Job one : selected) {
                    used |= services.repositories().forJob(one.name(), one.parameters().get("repositories")).stream()
                            .anyMatch(r -> r.name().equals(repository));
                    used |= services.engines().get(one.engine()).logArchive().isPresent()
                            && services.context(w -> { }).logRepositories(one).stream()
                            .anyMatch(r -> r.name().equals(repository));
                }
                if (!used) {
                    throw StowageException.usage("repository '" + repository + "' is not one of the repositories of "
                            + (job == null ? "any job" : "job '" + job + "'") + ": nothing is copied there; HINT: "
                            + "name one of the job's repositories (its repositories parameter)");
                }
            }
            Path home = services.repositories().home().root();
            CatchUp catchUp = new CatchUp(services, name -> JobLock.tryAcquire(home, name), Duration.ZERO);
            CatchUp.Options options = new CatchUp.Options(job, repository, dryRun, true);
            CatchUp.Report report;
            if (dryRun) {
                report = catchUp.run(options);
            } else {
                long wait = services.settings().number("stowage.catch-up.lock-wait-seconds");
                Optional<ExclusiveLock> lock = CatchUp.lock(home, Duration.ofSeconds(wait));
                if (lock.isEmpty()) {
                    throw new StowageException("another catch-up of copies (the service's, or a 'stowage sync') is "
                            + "running and did not finish within " + wait + " s; HINT: run 'stowage sync' again later "
                            + "(stowage.catch-up.lock-wait-seconds)");
                }
                try (ExclusiveLock held = lock.get()) {
                    report = catchUp.run(options);
                }
            }
            report.copied().forEach(line -> out().println("copied: " + line));
            report.missing().forEach(line -> out().println("missing: " + line));
            out().flush();
            List<String> failures = report.failures();
            if (!failures.isEmpty()) {
                throw new StowageException(failures.size() == 1 ? failures.get(0)
                        : failures.size() + " copies could not be made: " + String.join("; ", failures));
            }
            if (!report.missing().isEmpty()) {
                throw new StowageException(report.missing().size() + " cop" + (report.missing().size() == 1 ? "y is"
                        : "ies are") + " missing (listed above)" + (dryRun ? "; HINT: 'stowage sync' without "
                        + "--dry-run copies them" : ""));
            }
            out().println("every copy is in place");
            out().flush();
            return 0;
        }
    }
}
