package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.BackupRequest;
import io.stowage.engine.BackupSource;
import io.stowage.engine.Capabilities;
import io.stowage.engine.CheckReport;
import io.stowage.engine.Engine;
import io.stowage.engine.EngineContext;
import io.stowage.engine.RestoreKind;
import io.stowage.engine.RestoreRequest;
import io.stowage.engine.RestoreResult;
import io.stowage.engine.ScratchRestore;
import io.stowage.job.Job;
import io.stowage.pipeline.BackupStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * PostgreSQL: logical backups ({@code pg_dump --format=custom}, restored with pg_restore into a database, or one
 * table), physical backups ({@code pg_basebackup}, restored into a data directory, to a point in time with the WAL
 * archive, or one table through a scratch server), verification in a scratch database or a throwaway server.
 */
public final class PostgresqlEngine implements Engine {
    public static final String NAME = "postgresql";
    /** The port {@code restore --start} starts a restored cluster on when no {@code --port} is given. */
    static final int DEFAULT_START_PORT = 5433;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PostgresqlEngine.class);

    private static final Capabilities CAPABILITIES = new Capabilities(
            Map.of("logical", List.of(BackupType.FULL), "physical", List.of(BackupType.FULL)),
            Map.of("logical", Set.of(RestoreKind.DATABASE, RestoreKind.TABLE),
                    "physical", Set.of(RestoreKind.DATA_DIRECTORY, RestoreKind.POINT_IN_TIME, RestoreKind.TABLE)));

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Capabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public String detailsProblem(Manifest manifest) {
        return PgDetails.problem(manifest);
    }

    @Override
    public Map<String, Object> listFields(Manifest manifest) {
        PgDetails.Wal wal = PgDetails.wal(manifest);
        if (wal == null) {
            return Map.of();
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("walStart", wal.startSegment());
        fields.put("walStop", wal.stopSegment());
        fields.put("timeline", wal.timeline());
        return fields;
    }

    private final PgWalArchive wal = new PgWalArchive();

    @Override
    public java.util.Optional<io.stowage.engine.LogArchive> logArchive() {
        return java.util.Optional.of(wal);
    }

    @Override
    public boolean archivesLogs(Job job) {
        return "physical".equals(job.method());
    }

    @Override
    public Map<String, String> sourceSteps() {
        return Map.of("pg-dump", "logical", "pg-basebackup", "physical");
    }

    @Override
    public BackupSource openSource(Job job, String method, BackupRequest request, EngineContext context) {
        PgConnection connection = PgConnection.of(job);
        if ("logical".equals(method)) {
            String serverVersion = new PostgresServer(connection).serverVersion();
            String toolVersion = PgDump.toolVersion(connection);
            CustomFormatTap[] tap = new CustomFormatTap[1];
            BackupStream stream = new BackupStream(new PgDump(connection)).stage(PgDump.tap(t -> tap[0] = t));
            return new Source(stream, "pg_dump", toolVersion, serverVersion, connection.database(), Map.of()) {
                @Override
                public Map<String, Object> details() {
                    Map<String, Object> details = new LinkedHashMap<>();
                    if (tap[0] != null) {
                        tap[0].contents().ifPresentOrElse(c -> details.put("contents",
                                new PgDetails.Contents(c.tables(), c.indexes(), c.foreignKeys())), () -> LOG.warn(
                                "backup {} of job {}: row counts are not recorded ({}); its verification will skip them",
                                request.id(), job.name(), tap[0].stopReason()));
                    }
                    return details;
                }
            };
        }
        PostgresServer server = new PostgresServer(connection);
        Map<String, String> details = server.clusterDetails();
        boolean streamed = PgWalArchive.PG_RECEIVEWAL.equals(context.logArchiveParameters(job).get("receiver"));
        if ("off".equals(details.get("archiveMode")) && !streamed) {
            throw StowageException.usage("PostgreSQL at " + connection.host() + ":" + connection.port() + " does not "
                    + "archive its WAL (archive_mode = off); HINT: set archive_mode = on and archive_command as "
                    + "docs/postgresql.md shows, then restart the server, or stream it with the job's WAL route "
                    + "(receiver pg_receivewal)");
        }
        String unlogged = server.unloggedWarning(job.name());
        if (unlogged != null) {
            LOG.warn("{}", unlogged);
            request.warnings().accept(unlogged);
        }
        long segmentSize = Long.parseLong(details.get("walSegmentSize"));
        PgBaseBackup source = new PgBaseBackup(connection, "stowage " + request.id());
        return new Source(new BackupStream(source).stage(source.tap()), "pg_basebackup",
                PgBaseBackup.toolVersion(connection), details.get("serverVersion"), connection.database(),
                Map.of("systemIdentifier", details.get("systemIdentifier"))) {
            @Override
            public Map<String, Object> details() {
                PgBaseBackup.WalRange range = source.walRange();
                return Map.of("wal", new PgDetails.Wal(range.timeline(), range.start(), range.stop(),
                        WalNames.segment(range.timeline(), WalNames.lsn(range.start()), segmentSize),
                        WalNames.segment(range.timeline(), WalNames.lsn(range.stop()), segmentSize), segmentSize));
            }
        };
    }

    private abstract static class Source implements BackupSource {
        private final BackupStream stream;
        private final String tool;
        private final String toolVersion;
        private final String serverVersion;
        private final String database;
        private final Map<String, String> serverDetails;

        Source(BackupStream stream, String tool, String toolVersion, String serverVersion, String database,
               Map<String, String> serverDetails) {
            this.stream = stream;
            this.tool = tool;
            this.toolVersion = toolVersion;
            this.serverVersion = serverVersion;
            this.database = database;
            this.serverDetails = serverDetails;
        }

        @Override
        public BackupStream stream() {
            return stream;
        }

        @Override
        public String toolName() {
            return tool;
        }

        @Override
        public String toolVersion() {
            return toolVersion;
        }

        @Override
        public String serverVersion() {
            return serverVersion;
        }

        @Override
        public String database() {
            return database;
        }

        @Override
        public Map<String, String> serverDetails() {
            return serverDetails;
        }
    }

    @Override
    public RestoreResult restore(Job job, RestoreRequest request, EngineContext context) throws Exception {
        Map<String, String> options = request.options();
        boolean noOwner = options.containsKey("no-owner");
        boolean noPrivileges = options.containsKey("no-privileges");
        String role = options.get("role");
        String sourceDatabase = options.get("source-database");
        String backup = "latest".equals(request.backup()) ? null : request.backup();
        PgRestore.Options ownership = new PgRestore.Options(noOwner, role, noPrivileges);
        if (request.table() != null) {
            if (request.targetDatadir() != null) {
                throw StowageException.usage("--table restores into a database: use --target-database NAME, not "
                        + "--target-datadir");
            }
            if (request.targetDatabase() == null) {
                throw StowageException.usage("--table needs --target-database NAME (an existing database of the job's "
                        + "server, or a new one)");
            }
            TableName name = TableName.parse(request.table());
            TableRestore restore = new TableRestore(context, context.warnings(), ownership);
            TableRestore.Result result;
            if ("physical".equals(job.method())) {
                result = restore.restorePhysical(job, backup, PhysicalRestore.Target.parse(request.time()),
                        sourceDatabase == null ? PgConnection.of(job).database() : sourceDatabase, name,
                        request.targetDatabase(), request.force());
            } else {
                if (sourceDatabase != null) {
                    throw StowageException.usage("--source-database is for physical backups; a logical backup holds "
                            + "one database");
                }
                result = restore.restoreLogical(job, request.backup(), name, request.targetDatabase(), request.force());
            }
            return new RestoreResult(result.backup(), null, String.format(java.util.Locale.ROOT,
                    "restored table %s from backup %s of job %s into database %s%s", result.described(),
                    result.backup().id(), job.name(), result.target(), result.replaced()
                            ? ", replacing the table there" : result.createdDatabase() ? " (created)" : ""));
        }
        if (sourceDatabase != null) {
            throw StowageException.usage("--source-database goes with --table (one table from a physical backup)");
        }
        if (request.targetDatadir() != null) {
            if (noOwner || role != null || noPrivileges) {
                throw StowageException.usage("--no-owner, --role and --no-privileges go with --target-database: a "
                        + "physical restore brings back the whole cluster, roles and owners included");
            }
            int port = request.port() == 0 ? DEFAULT_START_PORT : request.port();
            PhysicalRestore.Result result = new PhysicalRestore(context, context.warnings()).restore(job, backup,
                    PhysicalRestore.Target.parse(request.time()), request.targetDatadir(), request.force(),
                    request.start(), port);
            return new RestoreResult(result.backup(), null, String.format(java.util.Locale.ROOT,
                    "restored backup %s of job %s into %s with %d WAL files%s", result.backup().id(), job.name(),
                    result.dataDirectory(), result.walFiles(), result.started()
                            ? ", started on port " + port + ", recovery finished"
                            : "; start it with: pg_ctl -D " + result.dataDirectory() + " start"));
        }
        LogicalRestore.Result result = new LogicalRestore(context, context.warnings()).restore(job, request.backup(),
                request.targetDatabase(), request.force(), ownership);
        return new RestoreResult(result.backup(), result.repository(), String.format(java.util.Locale.ROOT,
                "restored backup %s of job %s from repository %s into database %s", result.backup().id(), job.name(),
                result.repository(), result.target()));
    }

    @Override
    public ScratchRestore restoreForVerification(Job job, CatalogEntry backup, EngineContext context)
            throws Exception {
        return new PgVerifier(context).restore(job, backup);
    }

    @Override
    public void check(Job job, EngineContext context, CheckReport report) {
        PgConnection connection = PgConnection.of(job);
        String server = new PostgresServer(connection).serverVersion();
        boolean physical = "physical".equals(job.method());
        String tool = physical ? PgBaseBackup.toolVersion(connection) : PgDump.toolVersion(connection);
        report.ok("job " + job.describe() + ": PostgreSQL " + server + " at " + connection.host() + ":"
                + connection.port() + "/" + connection.database() + ", " + (physical ? "pg_basebackup " : "pg_dump ")
                + tool);
        for (String name : RestoreTarget.leftovers(connection)) {
            report.warn("job " + job.name() + ": database '" + name + "' was left by an interrupted restore ("
                    + (RestoreTarget.unfinished(name) ? "an unfinished restore, not a complete database"
                    : "the old database a restore replaced") + "); the next restore into the same target removes it, "
                    + "or: DROP DATABASE \"" + name + "\"");
        }
        if (physical) {
            String unlogged = new PostgresServer(connection).unloggedWarning(job.name());
            if (unlogged != null) {
                report.warn(io.stowage.Secrets.mask(unlogged));
            }
        }
    }
}
