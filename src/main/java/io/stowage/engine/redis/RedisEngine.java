package io.stowage.engine.redis;

import io.stowage.FileTrees;
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
import io.stowage.job.Probe;
import io.stowage.pipeline.BackupStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Redis: full backups of a whole server as an RDB snapshot ({@code redis-cli --rdb}, method {@code rdb}), restored
 * into a data directory (optionally started), verified by loading it into a scratch redis-server.
 */
public final class RedisEngine implements Engine {
    public static final String NAME = "redis";
    public static final String METHOD = "rdb";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(Map.of(METHOD, List.of(BackupType.FULL)),
                Map.of(METHOD, Set.of(RestoreKind.DATA_DIRECTORY)));
    }

    @Override
    public void validate(Job job) {
        RedisConnection connection = RedisConnection.of(job);
        if (!connection.tls() && (connection.tlsCaCert() != null || connection.tlsCert() != null
                || connection.tlsKey() != null)) {
            throw StowageException.usage("job '" + job.name() + "' names TLS files but tls is not true; HINT: set "
                    + "tls: true, or remove tlsCaCert, tlsCert and tlsKey");
        }
        if ((connection.tlsCert() == null) != (connection.tlsKey() == null)) {
            throw StowageException.usage("job '" + job.name() + "': tlsCert and tlsKey go together (a client "
                    + "certificate and its key)");
        }
        RedisProbes.validate(job.name(), Probe.of(job));
    }

    @Override
    public Map<String, String> sourceSteps() {
        return Map.of("redis-rdb", METHOD);
    }

    @Override
    public BackupSource openSource(Job job, String method, BackupRequest request, EngineContext context) {
        if (!METHOD.equals(method)) {
            throw StowageException.usage("job '" + job.name() + "': engine redis has no method '" + method
                    + "'; it supports " + METHOD);
        }
        RedisConnection connection = RedisConnection.of(job);
        RedisCli cli = new RedisCli(connection);
        cli.ping();
        Map<String, String> server = cli.info("server");
        String role = cli.info("replication").getOrDefault("role", "unknown");
        Map<String, Long> serverKeyspace = cli.keyspace();
        String toolVersion = cli.toolVersion();
        RdbKeyspace keyspace = new RdbKeyspace();
        BackupStream stream = new BackupStream(new RedisRdb(connection, keyspace));
        return new BackupSource() {
            @Override
            public BackupStream stream() {
                return stream;
            }

            @Override
            public String toolName() {
                return "redis-cli";
            }

            @Override
            public String toolVersion() {
                return toolVersion;
            }

            @Override
            public String serverVersion() {
                return server.getOrDefault("redis_version", "unknown");
            }

            @Override
            public Map<String, String> serverDetails() {
                Map<String, String> details = new java.util.LinkedHashMap<>();
                details.put("role", role);
                for (String field : List.of("redis_mode", "run_id", "os")) {
                    if (server.containsKey(field)) {
                        details.put(field, server.get(field));
                    }
                }
                return details;
            }

            @Override
            public Map<String, Object> details() {
                return RedisDetails.of(keyspace, role, serverKeyspace);
            }
        };
    }

    @Override
    public RestoreResult restore(Job job, RestoreRequest request, EngineContext context) throws Exception {
        return RedisRestore.restore(job, request, context);
    }

    @Override
    public ScratchRestore restoreForVerification(Job job, CatalogEntry backup, EngineContext context)
            throws Exception {
        return RedisScratch.open(job, backup, context);
    }

    @Override
    public String detailsProblem(Manifest manifest) {
        return RedisDetails.problem(manifest);
    }

    /** {@code list --json}: {@code keys}, the keys the RDB held (all databases), when it was read. */
    @Override
    public Map<String, Object> listFields(Manifest manifest) {
        RedisScratch.Recorded recorded = RedisScratch.Recorded.of(RedisDetails.of(manifest));
        return recorded == null ? Map.of() : Map.of("keys",
                recorded.keys().values().stream().mapToLong(Long::longValue).sum());
    }

    @Override
    public void check(Job job, EngineContext context, CheckReport report) {
        RedisConnection connection;
        try {
            connection = RedisConnection.of(job);
        } catch (StowageException e) {
            report.fail(e.getMessage());
            return;
        }
        RedisCli cli = new RedisCli(connection);
        try {
            report.ok("redis-cli " + cli.toolVersion() + " (" + connection.tool("redis-cli") + ")");
        } catch (StowageException e) {
            report.fail(e.getMessage());
            return;
        }
        try {
            cli.ping();
        } catch (StowageException e) {
            report.fail(e.getMessage());
            return;
        }
        try {
            Map<String, String> server = cli.info("server");
            Map<String, String> replication = cli.info("replication");
            String role = replication.getOrDefault("role", "unknown");
            report.ok(connection.describe() + ": Redis " + server.getOrDefault("redis_version", "unknown") + ", "
                    + role + ", " + RedisScratch.describe(cli.keyspace()));
            if ("slave".equals(role) || "replica".equals(role)) {
                String link = replication.getOrDefault("master_link_status", "unknown");
                if ("up".equals(link)) {
                    report.ok("a replica with its link to the primary up: backups are as fresh as it is");
                } else {
                    report.warn("a replica whose link to its primary is " + link + ": its backups may be stale");
                }
            }
            if ("cluster".equals(server.get("redis_mode"))) {
                report.warn("a cluster node: its backup holds only this node's slots; back up every primary");
            }
        } catch (StowageException e) {
            report.fail(e.getMessage());
            return;
        }
        persistence(cli, report);
        RedisCli.Reply sync = cli.command("COMMAND", "INFO", "SYNC");
        if (!sync.isError() && sync.value() != null && sync.value().isArray() && !sync.value().isEmpty()
                && sync.value().get(0).isNull()) {
            report.fail("the server has no SYNC command (renamed or disabled, as managed services do): redis-cli --rdb "
                    + "cannot back it up; HINT: use the provider's snapshot export, or a self-managed replica");
        } else if (connection.user() != null) {
            RedisCli.Reply dry = cli.command("ACL", "DRYRUN", connection.user(), "SYNC");
            if (!dry.isError() && dry.text() != null && !"OK".equals(dry.text())) {
                report.fail("user '" + connection.user() + "' may not run SYNC, which redis-cli --rdb needs: "
                        + dry.text() + "; HINT: ACL SETUSER " + connection.user() + " +sync +psync");
            }
        }
    }

    /** The server's own persistence: for the operator, never a failure (managed services hide CONFIG). */
    private static void persistence(RedisCli cli, CheckReport report) {
        RedisCli.Reply save = cli.command("CONFIG", "GET", "save");
        RedisCli.Reply aof = cli.command("CONFIG", "GET", "appendonly");
        if (save.isError() || aof.isError()) {
            report.warn("cannot read the server's persistence settings (CONFIG GET: "
                    + (save.isError() ? save.error() : aof.error()) + "); Stowage's backups do not need them");
            return;
        }
        String saving = save.value() != null && save.value().size() > 1 ? save.value().get(1).asText() : "";
        String appendonly = aof.value() != null && aof.value().size() > 1 ? aof.value().get(1).asText() : "";
        String line = "persistence: save '" + saving + "', appendonly " + appendonly;
        if (saving.isBlank() && !"yes".equals(appendonly)) {
            report.warn(line + ": the server keeps nothing on disk itself; Stowage's backups are its only copy");
        } else {
            report.ok(line);
        }
    }

    /** The start command the restore summary shows when it was not asked to start. */
    static String startCommand(Path directory) {
        return "redis-server --dir " + directory + " --dbfilename dump.rdb --appendonly no --port PORT";
    }

    static boolean isEmptyDirectory(Path directory) throws IOException {
        try (var entries = Files.list(directory)) {
            return entries.findAny().isEmpty();
        }
    }

    static void removeQuietly(Path path) {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            FileTrees.deleteQuietly(path);
        }
    }
}
