package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.job.Job;
import io.stowage.engine.Engine;
import io.stowage.engine.RestoreKind;
import io.stowage.engine.RestoreRequest;
import io.stowage.engine.RestoreResult;
import io.stowage.runtime.StowageRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code restore JOB [--backup ID|latest] (--target-database NAME | --target-datadir DIR) [--table NAME] [--time T]
 * [--from REPOSITORY] [--force]}: checks the request against what the job's engine can restore, then lets the engine restore it.
 */
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

    @Option(names = "--time", paramLabel = "TIMESTAMP", description = "Point in time to recover to (physical backups): "
            + "transactions committed before it are restored, one committed exactly at it or later is not; 'latest' "
            + "for everything archived.")
    String time;

    @Option(names = "--table", paramLabel = "NAME", description = "Restore one table only.")
    String table;

    @Option(names = "--source-database", paramLabel = "NAME", description = "With --table, for a physical backup: the "
            + "database of the backed-up cluster that holds the table (default: the job's database).")
    String sourceDatabase;

    @Option(names = "--from", paramLabel = "REPOSITORY", description = "Read the backup from this repository only "
            + "(default: the first repository, in the order of stowage.repositories, that holds a sound copy).")
    String from;

    @Option(names = "--force", description = "Replace an existing target database; with --target-datadir, replace "
            + "only an incomplete restore (a directory marked STOWAGE_RESTORE_INCOMPLETE).")
    boolean force;

    @Option(names = "--no-owner", description = "Leave out the backup's owners: what is restored (and a new "
            + "database) belongs to the restoring role, or to --role.")
    boolean noOwner;

    @Option(names = "--role", paramLabel = "ROLE", description = "Restore as ROLE (SET ROLE): with --no-owner, ROLE "
            + "owns what is restored and a new database. The job's user must be a member of ROLE.")
    String role;

    @Option(names = "--no-privileges", description = "Leave out the backup's GRANT and REVOKE (on objects and on "
            + "the database).")
    boolean noPrivileges;

    @Option(names = "--start", description = "With --target-datadir: start PostgreSQL there and wait until recovery "
            + "has finished.")
    boolean start;

    @Option(names = "--port", paramLabel = "N", description = "Port for --start (PostgreSQL: 5433 when not given).")
    Integer port;

    /** A restore's work, with one audit line for it: success with the backup restored, or failure with why. */
    private <T> T audited(StowageRuntime runtime, Job job, java.util.concurrent.Callable<T> work,
                          java.util.function.Function<T, String> backupOf) throws Exception {
        long started = System.nanoTime();
        T result;
        try {
            result = work.call();
        } catch (Exception e) {
            Exception reported = (Exception) io.stowage.Interruption.explain(e);
            runtime.services().audit().record(new io.stowage.audit.AuditLog.Entry("restore", job.name(), backup,
                    "failure", java.time.Duration.ofNanos(System.nanoTime() - started),
                    io.stowage.Failures.describe(reported)));
            throw reported;
        }
        runtime.services().audit().record(new io.stowage.audit.AuditLog.Entry("restore", job.name(),
                backupOf.apply(result), "success", java.time.Duration.ofNanos(System.nanoTime() - started), null));
        return result;
    }

    @Override
    public Integer call() throws Exception {
        try (io.stowage.Interruption.Command running = stoppable("restore of job '" + jobName + "'")) {
            return restore();
        }
    }

    private Integer restore() throws Exception {
        if (time != null && targetDatadir == null && table == null) {
            throw StowageException.usage("--time needs --target-datadir DIR (point-in-time restore of a physical backup)");
        }
        if (targetDatabase == null && targetDatadir == null) {
            throw StowageException.usage(table != null ? "--table needs --target-database NAME (an existing database of "
                    + "the job's server, or a new one)" : "restore needs --target-database NAME (logical) or "
                    + "--target-datadir DIR (physical)");
        }
        java.util.Map<String, String> options = new java.util.HashMap<>();
        if (noOwner) {
            options.put("no-owner", "true");
        }
        if (noPrivileges) {
            options.put("no-privileges", "true");
        }
        if (role != null) {
            options.put("role", role);
        }
        if (sourceDatabase != null) {
            options.put("source-database", sourceDatabase);
        }
        RestoreRequest request = new RestoreRequest(backup, time, targetDatabase,
                targetDatadir == null ? null : java.nio.file.Path.of(targetDatadir), table, from, force, start, port == null ? 0 : port,
                options);
        try (StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            runtime.services().readFrom(from);
            Engine engine = runtime.services().engines().get(job.engine());
            for (RestoreKind kind : request.kinds()) {
                engine.capabilities().requireTarget(job, kind);
            }
            warnAboutExposedKeys(runtime);
            long started = System.nanoTime();
            RestoreResult result = audited(runtime, job, () -> engine.restore(job, request,
                    runtime.services().context(this::warn)), r -> r.backup().id());
            out().printf("%s (%.1f s)%n", result.summary(), (System.nanoTime() - started) / 1e9);
            out().flush();
            return 0;
        }
    }
}
