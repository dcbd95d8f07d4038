package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.job.Job;
import io.stowage.restore.LogicalRestore;
import io.stowage.runtime.StowageRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code restore JOB [--backup ID|latest] --target-database NAME [--force]}. */
@Command(name = "restore", description = "Restore a backup of JOB into a new target; refuses an existing target "
        + "unless --force.")
final class RestoreCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", description = "The job whose backup to restore.")
    String jobName;

    @Option(names = "--backup", paramLabel = "ID", defaultValue = "latest", description = "A backup id, or latest "
            + "(default).")
    String backup;

    @Option(names = "--target-database", paramLabel = "NAME", description = "Database to create and restore into.")
    String targetDatabase;

    @Option(names = "--target-datadir", paramLabel = "DIR", description = "Data directory to restore into "
            + "(physical backups).")
    String targetDatadir;

    @Option(names = "--time", paramLabel = "TIMESTAMP", description = "Point in time to recover to (physical backups).")
    String time;

    @Option(names = "--table", paramLabel = "NAME", description = "Restore one table only.")
    String table;

    @Option(names = "--force", description = "Replace an existing target.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if (time != null || targetDatadir != null || table != null) {
            throw StowageException.usage("--time, --target-datadir and --table need physical or table-level restore, "
                    + "which this version does not have yet; restore a whole logical backup with --target-database");
        }
        if (targetDatabase == null) {
            throw StowageException.usage("restore needs --target-database NAME");
        }
        try (StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            long started = System.nanoTime();
            LogicalRestore.Result result;
            try {
                result = new LogicalRestore(runtime.services(), this::warn).restore(job, backup, targetDatabase, force);
            } catch (RuntimeException | java.io.IOException e) {
                runtime.services().audit().record(new io.stowage.audit.AuditLog.Entry("restore", job.name(), backup,
                        "failure", java.time.Duration.ofNanos(System.nanoTime() - started),
                        io.stowage.Failures.describe(e)));
                throw e;
            }
            runtime.services().audit().record(new io.stowage.audit.AuditLog.Entry("restore", job.name(),
                    result.backup().id(), "success", java.time.Duration.ofNanos(System.nanoTime() - started), null));
            out().printf("restored backup %s of job %s from repository %s into database %s (%.1f s)%n",
                    result.backup().id(), job.name(), result.repository(), result.target(), result.seconds());
            out().flush();
            return 0;
        }
    }
}
