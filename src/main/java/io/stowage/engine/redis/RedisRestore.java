package io.stowage.engine.redis;

import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.engine.EngineContext;
import io.stowage.engine.RestoreRequest;
import io.stowage.engine.RestoreResult;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/**
 * Restores a Redis backup into a data directory ({@code --target-datadir DIR}): {@code DIR/dump.rdb}, written
 * atomically after the stored object's SHA-256 is proven; with {@code --start --port N}, a redis-server started on it
 * (daemonized, 127.0.0.1:N) once it has loaded. An existing non-empty directory is refused unless {@code --force},
 * which replaces only {@code dump.rdb}; a directory a running server holds (its {@code redis.pid} names a live
 * process) is refused even then.
 */
final class RedisRestore {
    private RedisRestore() {
    }

    static RestoreResult restore(Job job, RestoreRequest request, EngineContext context) throws Exception {
        Path directory = request.targetDatadir();
        if (directory == null) {
            throw StowageException.usage("job '" + job.name() + "' (redis rdb) restores into a data directory: give "
                    + "--target-datadir DIR");
        }
        if (!request.options().isEmpty()) {
            throw StowageException.usage("job '" + job.name() + "' (redis rdb) restores a whole server: "
                    + String.join(", ", new java.util.TreeSet<>(request.options().keySet()).stream().map(o -> "--" + o)
                    .toList()) + " do not apply");
        }
        directory = directory.toAbsolutePath().normalize();
        if (request.start() && (request.port() < 1 || request.port() > 65535)) {
            throw StowageException.usage("--start needs --port N (1-65535) for the restored redis-server");
        }
        CatalogEntry entry = context.backup(job, request.backup());
        RdbFiles.object(entry.manifest());
        boolean created = !Files.exists(directory, LinkOption.NOFOLLOW_LINKS);
        requireTarget(directory, request.force());
        RdbFiles.Laid laid;
        try {
            RdbFiles.createDirectory(directory);
            laid = RdbFiles.layOut(entry, context, directory);
        } catch (Exception | Error e) {
            if (created) {
                RedisEngine.removeQuietly(directory);
            }
            throw e;
        }
        for (String aof : java.util.List.of("appendonlydir", "appendonly.aof")) {
            if (Files.exists(directory.resolve(aof), LinkOption.NOFOLLOW_LINKS)) {
                context.warnings().accept(directory + " also holds " + aof + ": a redis-server started there with "
                        + "appendonly yes loads it instead of the restored dump.rdb; move it aside first");
            }
        }
        Map<String, RdbKeyspace.Database> databases = laid.keyspace().databases();
        long keys = databases.values().stream().mapToLong(RdbKeyspace.Database::keys).sum();
        String what = "restored backup " + entry.id() + " of job " + job.name() + " into " + directory + " (dump.rdb, "
                + (laid.keyspace().complete() ? keys + " keys in " + databases.size() + " database(s)"
                : "keys not counted: " + laid.keyspace().unreadable()) + ")";
        if (!request.start()) {
            return new RestoreResult(entry, laid.repository().name(), what + "; start it with: "
                    + RedisEngine.startCommand(directory));
        }
        String binDir = job.parameter("redisBin", null);
        try (RedisServer started = RedisServer.daemon(binDir, directory, request.port())) {
            Map<String, Long> loaded = started.cli().keyspace();
            started.leaveRunning();
            return new RestoreResult(entry, laid.repository().name(), what + "; redis-server started on 127.0.0.1:"
                    + request.port() + " with " + RedisScratch.describe(loaded));
        } catch (StowageException e) {
            throw new StowageException(what + ", but redis-server did not start: " + e.getMessage());
        }
    }

    /** Refuses a target that is a link, not a directory, in use by a server, or not empty without --force. */
    private static void requireTarget(Path directory, boolean force) throws java.io.IOException {
        if (Files.isSymbolicLink(directory)) {
            throw StowageException.usage("--target-datadir " + directory + " is a symbolic link; HINT: name the real "
                    + "directory (a restore never follows links)");
        }
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            throw StowageException.usage("--target-datadir " + directory + " exists and is not a directory");
        }
        if (RedisEngine.isEmptyDirectory(directory)) {
            return;
        }
        if (!force) {
            throw StowageException.usage("--target-datadir " + directory + " exists and is not empty; HINT: name a new "
                    + "or empty directory, or add --force to replace its dump.rdb");
        }
        java.util.Optional<ProcessHandle> running = RedisServer.runningIn(directory);
        if (running.isPresent()) {
            throw new StowageException("--target-datadir " + directory + " is the data directory of a running "
                    + "redis-server (pid " + running.get().pid() + "), which would overwrite the restored dump.rdb at its "
                    + "next save; HINT: stop it first (redis-cli SHUTDOWN NOSAVE), or restore into another directory");
        }
        Path rdb = directory.resolve(RdbFiles.FILE);
        if (Files.exists(rdb, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(rdb, LinkOption.NOFOLLOW_LINKS)) {
            throw new StowageException(rdb + " is not a regular file (a link or a directory); HINT: remove it first");
        }
    }
}
