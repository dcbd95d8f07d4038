package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.job.Job;
import io.stowage.restore.LogicalRestore;
import io.stowage.runtime.StowageRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code restore JOB [--backup ID|latest] --target-database NAME [--from REPOSITORY] [--force]}. */
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

    private io.stowage.engine.postgresql.PgRestore.Options ownership() {
        return new io.stowage.engine.postgresql.PgRestore.Options(noOwner, role, noPrivileges);
    }

    @Option(names = "--start", description = "With --target-datadir: start PostgreSQL there and wait until recovery "
            + "has finished.")
    boolean start;

    @Option(names = "--port", paramLabel = "N", defaultValue = "5433", description = "Port for --start (default: "
            + "${DEFAULT-VALUE}).")
    int port;

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

    private Integer restorePhysical() throws Exception {
        if (noOwner || role != null || noPrivileges) {
            throw StowageException.usage("--no-owner, --role and --no-privileges go with --target-database: a physical "
                    + "restore brings back the whole cluster, roles and owners included");
        }
        try (StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            runtime.services().readFrom(from);
            warnAboutExposedKeys(runtime);
            long started = System.nanoTime();
            io.stowage.restore.PhysicalRestore.Result result = audited(runtime, job, () ->
                    new io.stowage.restore.PhysicalRestore(runtime.services(), this::warn).restore(job,
                            "latest".equals(backup) ? null : backup, io.stowage.restore.PhysicalRestore.Target.parse(time),
                            java.nio.file.Path.of(targetDatadir), force, start, port), r -> r.backup().id());
            out().printf("restored backup %s of job %s into %s with %d WAL files%s (%.1f s)%n", result.backup().id(),
                    job.name(), result.dataDirectory(), result.walFiles(), result.started()
                            ? ", started on port " + port + ", recovery finished"
                            : "; start it with: pg_ctl -D " + result.dataDirectory() + " start",
                    (System.nanoTime() - started) / 1e9);
            out().flush();
            return 0;
        }
    }

    private Integer restoreTable() throws Exception {
        if (targetDatadir != null) {
            throw StowageException.usage("--table restores into a database: use --target-database NAME, not "
                    + "--target-datadir");
        }
        if (targetDatabase == null) {
            throw StowageException.usage("--table needs --target-database NAME (an existing database of the job's server, "
                    + "or a new one)");
        }
        io.stowage.engine.postgresql.TableName name = io.stowage.engine.postgresql.TableName.parse(table);
        try (StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            runtime.services().readFrom(from);
            warnAboutExposedKeys(runtime);
            io.stowage.restore.TableRestore restore = new io.stowage.restore.TableRestore(runtime.services(), this::warn,
                    ownership());
            io.stowage.restore.TableRestore.Result result = audited(runtime, job, () -> {
                if ("physical".equals(job.method())) {
                    return restore.restorePhysical(job, "latest".equals(backup) ? null : backup,
                            io.stowage.restore.PhysicalRestore.Target.parse(time), sourceDatabase == null
                                    ? io.stowage.engine.postgresql.PgConnection.of(job).database() : sourceDatabase,
                            name, targetDatabase, force);
                }
                if (time != null) {
                    throw StowageException.usage("--time needs a physical backup; job '" + job.name() + "' makes "
                            + job.method() + " backups (choose one with --backup)");
                }
                if (sourceDatabase != null) {
                    throw StowageException.usage("--source-database is for physical backups; a logical backup holds "
                            + "one database");
                }
                return restore.restoreLogical(job, backup, name, targetDatabase, force);
            }, r -> r.backup().id());
            out().printf("restored table %s from backup %s of job %s into database %s%s (%.1f s)%n", result.described(),
                    result.backup().id(), job.name(), result.target(), result.replaced() ? ", replacing the table there"
                            : result.createdDatabase() ? " (created)" : "", result.seconds());
            out().flush();
            return 0;
        }
    }

    @Override
    public Integer call() throws Exception {
        try (io.stowage.Interruption.Command running = stoppable("restore of job '" + jobName + "'")) {
            return restore();
        }
    }

    private Integer restore() throws Exception {
        if (table != null) {
            return restoreTable();
        }
        if (sourceDatabase != null) {
            throw StowageException.usage("--source-database goes with --table (one table from a physical backup)");
        }
        if (targetDatadir != null) {
            return restorePhysical();
        }
        if (time != null) {
            throw StowageException.usage("--time needs --target-datadir DIR (point-in-time restore of a physical backup)");
        }
        if (targetDatabase == null) {
            throw StowageException.usage("restore needs --target-database NAME (logical) or --target-datadir DIR (physical)");
        }
        try (StowageRuntime runtime = startLightRuntime()) {
            Job job = runtime.services().jobs().get(jobName);
            runtime.services().readFrom(from);
            warnAboutExposedKeys(runtime);
            LogicalRestore.Result result = audited(runtime, job, () -> new LogicalRestore(runtime.services(),
                    this::warn).restore(job, backup, targetDatabase, force, ownership()), r -> r.backup().id());
            out().printf("restored backup %s of job %s from repository %s into database %s (%.1f s)%n",
                    result.backup().id(), job.name(), result.repository(), result.target(), result.seconds());
            out().flush();
            return 0;
        }
    }
}
