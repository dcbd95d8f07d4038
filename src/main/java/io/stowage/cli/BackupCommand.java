package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.job.Job;
import io.stowage.route.BackupRun;
import io.stowage.runtime.StowageRuntime;
import io.stowage.runtime.StowageServices;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backup JOB [--type full|diff|incr]}: one backup now, through the job's route; prints the new id last. */
@Command(name = "backup", description = "Take one backup of JOB now; the last line printed is the new backup's id.")
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
            Throwable failure = exchange.getException() != null ? exchange.getException()
                    : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            if (failure != null) {
                // A backup complete somewhere still gets its id printed: the operator needs it.
                if (run != null && !run.completeIn().isEmpty()) {
                    out().println(run.id());
                    out().flush();
                }
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
