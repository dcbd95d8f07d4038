package io.stowage.engine.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.FileTrees;
import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.EngineContext;
import io.stowage.engine.ScratchRestore;
import io.stowage.job.Job;
import io.stowage.job.Probe;
import io.stowage.lock.ExclusiveLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A backup's RDB loaded into a scratch redis-server for verification: laid out in
 * {@code <scratch>/<job>-redis/} (0700), served on a Unix socket there (no TCP port, no persistence), and
 * probed: keys per database as the RDB recorded them when it was stored, then the job's probes. {@link #close} stops
 * the server and deletes the directory, following no link.
 */
public final class RedisScratch implements ScratchRestore {
    private final Path directory;
    private final RedisServer server;
    private final ExclusiveLock lock;
    /** The keys of the RDB as it was laid out, counted again: what the server must hold when the manifest has none. */
    private RdbKeyspace laidOut;
    private boolean closed;

    private RedisScratch(Path directory, RedisServer server, ExclusiveLock lock) {
        this.directory = directory;
        this.server = server;
        this.lock = lock;
    }

    /**
     * Lays out and starts, in {@code <scratch>/<job>-redis/} under the job's lock {@code <job>-redis.lock} (one scratch
     * server per job: a second verification of the job is refused at once); what a killed earlier run left there (a
     * running scratch server, its files) is stopped and deleted first. On any failure, stops what started and deletes
     * the directory before throwing.
     */
    static RedisScratch open(Job job, CatalogEntry backup, EngineContext context) throws Exception {
        Path root = context.scratchRoot();
        Files.createDirectories(root);
        ExclusiveLock lock = ExclusiveLock.tryAcquire(root.resolve(job.name() + "-redis.lock")).orElseThrow(() ->
                new StowageException("another verification of job '" + job.name() + "' is running (" + root.resolve(
                        job.name() + "-redis") + "); HINT: wait for it to finish"));
        Path directory = root.resolve(job.name() + "-redis");
        RedisServer server = null;
        try {
            removeLeftovers(directory);
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            RdbFiles.Laid laid = RdbFiles.layOut(backup, context, directory);
            server = RedisServer.scratch(job.parameter("redisBin", null), directory);
            RedisScratch scratch = new RedisScratch(directory, server, lock);
            scratch.laidOut = laid.keyspace();
            return scratch;
        } catch (Exception | Error e) {
            if (server != null) {
                server.close();
            }
            FileTrees.deleteQuietly(directory);
            try {
                lock.closeAndDelete();
            } catch (java.io.IOException lockFile) {
                e.addSuppressed(lockFile);
            }
            throw e;
        }
    }

    /** A scratch server a killed run left (its pid file names a live redis-server) is killed; the directory goes. */
    private static void removeLeftovers(Path directory) throws java.io.IOException {
        if (!Files.exists(directory, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        RedisServer.pid(directory.resolve("redis.pid")).flatMap(ProcessHandle::of).ifPresent(p -> {
            if (RedisServer.isRedisServer(p)) {
                p.destroyForcibly();
                p.onExit().join();
            }
        });
        FileTrees.delete(directory);
    }

    public RedisCli cli() {
        return server.cli();
    }

    /**
     * The keys per database are compared with what the manifest recorded; a backup that recorded none (its RDB held a
     * type this Stowage could not read as it was stored) is compared with the RDB counted again as it was laid out,
     * and only when neither can be read is the comparison skipped, which the outcome says.
     */
    @Override
    public Probes probe(Manifest manifest, List<Probe> probes) {
        Recorded recorded = Recorded.of(RedisDetails.of(manifest));
        if (recorded == null && laidOut != null && laidOut.complete()) {
            recorded = Recorded.of(laidOut);
        }
        return probe(recorded, probes);
    }

    /** Probes against {@code recorded} (null: the backup recorded no key counts). */
    Probes probe(Recorded recorded, List<Probe> probes) {
        List<Outcome> outcomes = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Map<String, Long> observed = server.cli().keyspace();
        long checkedAt = System.currentTimeMillis();
        long keys = observed.values().stream().mapToLong(Long::longValue).sum();
        if (recorded == null) {
            outcomes.add(new Outcome("keys-per-database", "built-in", "skipped", describe(observed),
                    "not recorded by this backup"));
        } else {
            String mismatch = recorded.compare(observed, checkedAt);
            if (mismatch == null) {
                outcomes.add(Outcome.passed("keys-per-database", describe(observed), "as recorded: "
                        + describe(recorded.keys())));
            } else {
                failures.add("probe 'keys-per-database' failed: " + mismatch);
            }
        }
        for (Probe probe : probes) {
            operatorProbe(probe, outcomes, failures);
        }
        if (!failures.isEmpty()) {
            throw new StowageException(failures.get(0) + (failures.size() > 1 ? " (and " + (failures.size() - 1)
                    + " more failed probe(s): " + String.join("; ", failures.subList(1, failures.size())) + ")" : ""));
        }
        return new Probes(observed.size(), keys, outcomes, observed.size() + " database(s), " + keys + " keys"
                + (recorded == null ? "" : ", keys per database as recorded") + (probes.isEmpty() ? ""
                : "; " + probes.size() + " probe(s) passed"));
    }

    private void operatorProbe(Probe probe, List<Outcome> outcomes, List<String> failures) {
        RedisCli.Reply reply;
        try {
            reply = server.cli().command(RedisProbes.arguments(probe.sql()));
        } catch (StowageException e) {
            failures.add("probe '" + probe.name() + "' failed: " + e.getMessage() + " (expected " + probe.condition()
                    + ")");
            return;
        }
        if (reply.isError()) {
            failures.add("probe '" + probe.name() + "' failed: " + Secrets.mask(reply.error()) + " (expected "
                    + probe.condition() + ")");
            return;
        }
        boolean hasRow = reply.hasRow();
        String value = hasRow ? reply.text() : null;
        if (probe.condition().test(hasRow, value)) {
            outcomes.add(new Outcome(probe.name(), "operator", "passed", value, probe.condition().toString()));
        } else {
            failures.add("probe '" + probe.name() + "' failed: " + (hasRow ? "value " + value : "no value (nil or"
                    + " empty)") + ", expected " + probe.condition());
        }
    }

    static String describe(Map<String, Long> keyspace) {
        if (keyspace.isEmpty()) {
            return "no keys";
        }
        List<String> parts = new ArrayList<>();
        keyspace.forEach((db, n) -> parts.add(db + "=" + n));
        return String.join(", ", parts);
    }

    /** The keys per database a backup recorded (its manifest's {@code engineDetails}), with their expiries. */
    record Recorded(Map<String, Long> keys, Map<String, Long> volatileKeys, Map<String, Long> firstExpiry) {
        /** The counts of an RDB as {@link RdbKeyspace} read it. */
        static Recorded of(RdbKeyspace rdb) {
            Map<String, Long> keys = new TreeMap<>(RdbKeyspace.DATABASE_ORDER);
            Map<String, Long> volatileKeys = new TreeMap<>(RdbKeyspace.DATABASE_ORDER);
            Map<String, Long> firstExpiry = new TreeMap<>(RdbKeyspace.DATABASE_ORDER);
            rdb.databases().forEach((db, d) -> {
                keys.put(db, d.keys());
                if (d.volatileKeys() > 0) {
                    volatileKeys.put(db, d.volatileKeys());
                    firstExpiry.put(db, d.firstExpiryMillis());
                }
            });
            return new Recorded(keys, volatileKeys, firstExpiry);
        }


        /** From a manifest's {@code engineDetails}; null when it recorded none. */
        static Recorded of(JsonNode details) {
            if (details == null || !details.path("keyspace").isObject()) {
                return null;
            }
            Map<String, Long> keys = new TreeMap<>(RdbKeyspace.DATABASE_ORDER);
            Map<String, Long> volatileKeys = new TreeMap<>(RdbKeyspace.DATABASE_ORDER);
            Map<String, Long> firstExpiry = new TreeMap<>(RdbKeyspace.DATABASE_ORDER);
            details.path("keyspace").fields().forEachRemaining(e -> keys.put(e.getKey(), e.getValue().asLong()));
            details.path("volatileKeys").fields().forEachRemaining(e -> volatileKeys.put(e.getKey(),
                    e.getValue().asLong()));
            details.path("firstExpiry").fields().forEachRemaining(e -> firstExpiry.put(e.getKey(),
                    Instant.parse(e.getValue().asText()).toEpochMilli()));
            return new Recorded(keys, volatileKeys, firstExpiry);
        }

        /**
         * Null when {@code observed} is what the RDB held; else what differs. Exact while none of a database's keys
         * with an expiry can have expired; after the first expiry, a database may have lost up to that many keys.
         */
        String compare(Map<String, Long> observed, long checkedAtMillis) {
            for (String db : new TreeSet<>(union(observed))) {
                long expected = keys.getOrDefault(db, 0L);
                long actual = observed.getOrDefault(db, 0L);
                long expiring = volatileKeys.getOrDefault(db, 0L);
                Long first = firstExpiry.get(db);
                boolean exact = expiring == 0 || first == null || first > checkedAtMillis;
                if (exact && actual != expected) {
                    return db + " has " + actual + " keys after the restore, the backup recorded " + expected;
                }
                if (!exact && (actual > expected || actual < expected - expiring)) {
                    return db + " has " + actual + " keys after the restore, the backup recorded " + expected
                            + " (of which " + expiring + " with an expiry, some past)";
                }
            }
            return null;
        }

        private java.util.Set<String> union(Map<String, Long> observed) {
            java.util.Set<String> all = new TreeSet<>(RdbKeyspace.DATABASE_ORDER);
            all.addAll(keys.keySet());
            all.addAll(observed.keySet());
            return all;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } finally {
            FileTrees.deleteQuietly(directory);
            try {
                lock.closeAndDelete();
            } catch (java.io.IOException e) {
                // the lock goes with the process; only its file may stay
            }
        }
    }

    Path directory() {
        return directory;
    }
}
