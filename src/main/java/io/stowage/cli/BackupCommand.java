package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.job.Job;
import io.stowage.route.BackupRun;
import io.stowage.runtime.StowageRuntime;
import io.stowage.services.StowageServices;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code backup JOB [--type full|diff|incr]}: one backup now, through the job's route; on success prints the new id
 * last, on failure nothing on stdout.
 */
@Command(name = "backup", description = "Take one backup of JOB now; when it succeeds, the last line on stdout is the "
        + "new backup's id.")
final class BackupCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", description = "The job, as named in routes/.")
    String jobName;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "full", description = "full, diff or incr (default: full).")
    String type;

    @Override
    public Integer call() {
        BackupType backupType = BackupType.of(type);
        try (io.stowage.Interruption.Command running = stoppable("backup of job '" + jobName + "'");
             StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            io.stowage.Interruption.check();
            ProducerTemplate producer = runtime.context().createProducerTemplate();
            long started = System.nanoTime();
            // Through run-backup, as the scheduler does: the outcome is recorded, audited and alerted the same way;
            // a command is never retried.
            // Routes from before the service release have no run-backup route: go to the job's pipeline directly.
            String entry = runtime.context().getRoute("run-backup") != null ? "direct:run-backup"
                    : "direct:backup-" + job.name();
            Exchange exchange = producer.send(entry, e -> {
                e.getIn().setHeader("StowageJob", job.name());
                e.getIn().setHeader(BackupRun.TYPE_HEADER, backupType.id());
                e.getIn().setHeader(StowageServices.TRIGGER_HEADER, "command");
            });
            BackupRun run = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
            @SuppressWarnings("unchecked")
            java.util.List<String> alertWarnings = exchange.getProperty(StowageServices.ALERT_WARNINGS_PROPERTY,
                    java.util.List.class);
            if (alertWarnings != null) {
                alertWarnings.forEach(this::warn);
            }
            if (run != null) {
                run.warnings().forEach(this::warn);
            }
            // The backup's own outcome, as stowage:outcome recorded it: never an exception that sending an alert
            // left behind (EXCEPTION_CAUGHT belongs to whichever doCatch ran last).
            Throwable failure = exchange.getException() != null ? exchange.getException()
                    : exchange.getProperty(StowageServices.FAILURE_PROPERTY, Throwable.class);
            if (failure != null) {
                // Nothing on stdout: its last line is a new backup's id only when the backup succeeded. A backup
                // complete in some repositories while a copy failed is named in the error line.
                throw wrap(failure, job);
            }
            if (run == null) {
                throw StowageException.usage("route 'backup-" + job.name() + "' did not run stowage:begin");
            }
            out().printf("backup %s of job %s complete in %s (%.1f s)%n", run.id(), job.name(),
                    String.join(", ", run.completeIn()), (System.nanoTime() - started) / 1e9);
            out().println(run.id());
            out().flush();
            return 0;
        }
    }

    private static RuntimeException wrap(Throwable e, Job job) {
        StowageException known = io.stowage.Failures.known(e);
        if (known != null && known.exitCode() == StowageException.USAGE) {
            return known;
        }
        return new StowageException("backup of job '" + job.name() + "' failed: " + io.stowage.Failures.describe(e), e);
    }
}
