package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.job.Job;
import io.stowage.route.BackupRun;
import io.stowage.runtime.StowageRuntime;
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
        try (StowageRuntime runtime = startRuntime(false)) {
            Job job = runtime.services().jobs().get(jobName);
            ProducerTemplate producer = runtime.context().createProducerTemplate();
            long started = System.nanoTime();
            Exchange exchange = producer.send("direct:backup-" + job.name(),
                    e -> e.getIn().setHeader(BackupRun.TYPE_HEADER, backupType.id()));
            BackupRun run = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
            if (exchange.getException() != null) {
                // A backup complete somewhere still gets its id printed: the operator needs it.
                if (run != null && exchange.getIn().getBody() instanceof String id && id.equals(run.id())) {
                    out().println(id);
                    out().flush();
                }
                throw wrap(exchange.getException(), job);
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

    private static RuntimeException wrap(Exception e, Job job) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StowageException s) {
                if (s.exitCode() == StowageException.USAGE) {
                    return s;
                }
                return new StowageException("backup of job '" + job.name() + "' failed: " + s.getMessage(), s);
            }
        }
        return new StowageException("backup of job '" + job.name() + "' failed: " + rootMessage(e), e);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
