package io.stowage.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.catalog.ManifestCodec;
import io.stowage.engine.ScratchRestore;
import io.stowage.job.Job;
import io.stowage.job.Probe;
import io.stowage.testing.ThrowawayRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Restore into a data directory and verification in a scratch server, from backups of a real redis-server. */
class RedisRestoreVerifyTest {
    private final RedisEngine engine = new RedisEngine();
    private List<Long> serversBefore;

    @TempDir
    Path root;

    @BeforeEach
    void servers() {
        serversBefore = ThrowawayRedis.runningServers();
    }

    @AfterEach
    void noServerLeftRunning() {
        assertThat(ThrowawayRedis.runningServers()).isSubsetOf(serversBefore);
    }

    private RedisTesting.Taken backup(ThrowawayRedis redis, RedisTesting.Context context, Map<String, String> more)
            throws Exception {
        redis.loadSample(2, 500, 1, 1 << 20);
        return RedisTesting.backup(engine, RedisTesting.job(redis, null, more), context);
    }

    @Test
    void restoreRefusesANonEmptyDirectoryUnlessForcedAndNeverALink() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            RedisTesting.Taken taken = backup(redis, context, Map.of());
            Job job = RedisTesting.job(redis, null, Map.of());
            Path datadir = Files.createDirectory(root.resolve("data"));
            Files.writeString(datadir.resolve("dump.rdb"), "old");

            assertThatThrownBy(() -> engine.restore(job, RedisBackupTest.request(datadir, false, false, 0), context))
                    .isInstanceOf(StowageException.class)
                    .hasMessageContaining("exists and is not empty; HINT: name a new or empty directory, or add --force")
                    .satisfies(e -> assertThat(((StowageException) e).exitCode()).isEqualTo(2));
            assertThat(Files.readString(datadir.resolve("dump.rdb"))).isEqualTo("old");

            var result = engine.restore(job, RedisBackupTest.request(datadir, true, false, 0), context);
            assertThat(result.summary()).contains("restored backup " + taken.entry().id() + " of job cache into "
                    + datadir + " (dump.rdb, 1007 keys in 2 database(s)); start it with: redis-server --dir " + datadir);
            assertThat(result.repository()).isEqualTo("local");
            assertThat(Files.size(datadir.resolve("dump.rdb"))).isEqualTo(taken.result().rawBytes());
            try (var files = Files.list(datadir)) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly("dump.rdb");
            }

            Path link = Files.createSymbolicLink(root.resolve("link"), datadir);
            assertThatThrownBy(() -> engine.restore(job, RedisBackupTest.request(link, true, false, 0), context))
                    .hasMessageContaining("is a symbolic link");

            Path fresh = root.resolve("new").resolve("data");
            engine.restore(job, RedisBackupTest.request(fresh, false, false, 0), context);
            assertThat(Files.size(fresh.resolve("dump.rdb"))).isEqualTo(taken.result().rawBytes());
        }
    }

    /**
     * --force replaces dump.rdb, but never under a running redis-server, which would overwrite it at its next save:
     * found through its working directory, although its pid file is elsewhere (Debian keeps it in /run/redis).
     */
    @Test
    void forceIsRefusedInTheDataDirectoryOfARunningServer() throws Exception {
        try (ThrowawayRedis source = ThrowawayRedis.start(); ThrowawayRedis live = ThrowawayRedis.start()) {
            source.loadSample(1, 100, 0, 10);
            live.call("SET", "live-only", "x");
            live.call("SAVE");
            RedisTesting.Context context = new RedisTesting.Context(root);
            RedisTesting.backup(engine, RedisTesting.job(source, null, Map.of()), context);
            Path dir = live.directory();
            byte[] before = Files.readAllBytes(dir.resolve("dump.rdb"));
            assertThat(dir.resolve("redis.pid")).doesNotExist();
            assertThatThrownBy(() -> engine.restore(RedisTesting.job(source, null, Map.of()),
                    RedisBackupTest.request(dir, true, false, 0), context))
                    .isInstanceOf(io.stowage.StowageException.class)
                    .hasMessageContaining("is the data directory of a running redis-server (pid " + live.pid() + ")");
            assertThat(Files.readAllBytes(dir.resolve("dump.rdb"))).isEqualTo(before);
        }
    }

    @Test
    void anEncryptedBackupIsRestoredAndVerified() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            Path passphrase = Files.writeString(root.resolve("passphrase"), "correct horse battery staple redis\n");
            Files.setPosixFilePermissions(passphrase, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            context.encryption = io.stowage.crypto.AgeKeys.configure(null, null, passphrase.toString(), "10");
            RedisTesting.Taken taken = backup(redis, context, Map.of());
            assertThat(taken.result().objectName()).isEqualTo("dump.rdb.zst.age");
            Job job = RedisTesting.job(redis, null, Map.of());
            Path datadir = root.resolve("data");
            assertThat(engine.restore(job, RedisBackupTest.request(datadir, false, false, 0), context).summary())
                    .contains("1007 keys in 2 database(s)");
            assertThat(Files.size(datadir.resolve("dump.rdb"))).isEqualTo(taken.result().rawBytes());
            try (ScratchRestore scratch = engine.restoreForVerification(job, taken.entry(), context)) {
                assertThat(((RedisScratch) scratch).probe(RedisScratch.Recorded.of(
                        ManifestCodec.JSON.valueToTree(taken.details())), List.of()).rows()).isEqualTo(1007);
            }
        }
    }

    @Test
    void aBackupTakenUnderWritesIsVerifiedAgainstItsOwnSnapshot() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            redis.loadSample(2, 20000, 2, 4 << 20);
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
            Thread writer = new Thread(() -> {
                int i = 0;
                while (!stop.get()) {
                    try {
                        List<Object[]> batch = new java.util.ArrayList<>();
                        for (int j = 0; j < 200; j++, i++) {
                            batch.add(new Object[] {"SET", "busy:" + i, "v" + i});
                            batch.add(new Object[] {"DEL", "key:0:" + (i % 20000)});
                        }
                        redis.load(0, batch);
                        writes.addAndGet(400);
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            writer.start();
            RedisTesting.Taken taken;
            try {
                Thread.sleep(200);
                taken = RedisTesting.backup(engine, RedisTesting.job(redis, null, Map.of()), context);
                Thread.sleep(200);
            } finally {
                stop.set(true);
                writer.join();
            }
            assertThat(writes.get()).isGreaterThan(0);
            Job job = RedisTesting.job(redis, null, Map.of());
            RedisScratch.Recorded recorded = RedisScratch.Recorded.of(ManifestCodec.JSON.valueToTree(taken.details()));
            assertThat(keyspace(redis)).isNotEqualTo(recorded.keys()); // the server moved on after the snapshot
            try (ScratchRestore scratch = engine.restoreForVerification(job, taken.entry(), context)) {
                ScratchRestore.Probes result = ((RedisScratch) scratch).probe(recorded, List.of());
                assertThat(result.outcomes().get(0).result()).isEqualTo("passed");
            }
        }
    }

    private static Map<String, Long> keyspace(ThrowawayRedis redis) throws Exception {
        Map<String, Long> keys = new java.util.TreeMap<>();
        RedisBackupTest.keyspace(redis).forEach((db, n) -> keys.put(db, Long.parseLong(n)));
        return keys;
    }

    @Test
    void startOnAPortInUseIsRefusedAndStartsNothing() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            backup(redis, context, Map.of());
            Job job = RedisTesting.job(redis, null, Map.of());
            Path datadir = root.resolve("data");
            assertThatThrownBy(() -> engine.restore(job, RedisBackupTest.request(datadir, false, true, redis.port()),
                    context))
                    .isInstanceOf(StowageException.class)
                    .hasMessageContaining("restored backup")
                    .hasMessageContaining("but redis-server did not start: port " + redis.port()
                            + " of 127.0.0.1 is in use");
            assertThat(datadir.resolve("dump.rdb")).exists();
            assertThat(redis.call("PING")).isEqualTo("PONG");

            // A stale pid file of a server that is gone is no obstacle: restored again, forced, and started.
            Files.writeString(datadir.resolve("redis.pid"), "999999\n");
            int port = ThrowawayRedis.freePort();
            try {
                assertThat(engine.restore(job, RedisBackupTest.request(datadir, true, true, port), context).summary())
                        .contains("redis-server started on 127.0.0.1:" + port + " with db0=507, db1=500");
            } finally {
                new RedisCli(RedisConnection.local(port, null)).command("SHUTDOWN", "NOSAVE");
                RedisBackupTest.waitForPidGone(datadir);
            }
        }
    }

    @Test
    void verificationPassesOnAGoodBackupAndNamesAFailedProbe() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            RedisTesting.Taken taken = backup(redis, context, Map.of());
            Job job = RedisTesting.job(redis, null, Map.of());
            RedisScratch.Recorded recorded = RedisScratch.Recorded.of(ManifestCodec.JSON.valueToTree(taken.details()));
            List<Probe> probes = Probe.parse("cache", String.join("\n",
                    "keys: DBSIZE => = 507",
                    "hash: HLEN hash => = 200",
                    "quoted: GET \"key:0:1\" => not empty",
                    "missing: GET nothing-here => empty",
                    "members: SMEMBERS set => not empty"));
            Path directory;
            try (ScratchRestore scratch = engine.restoreForVerification(job, taken.entry(), context)) {
                directory = ((RedisScratch) scratch).directory();
                assertThat(directory).startsWith(context.scratchRoot());
                assertThatThrownBy(() -> engine.restoreForVerification(job, taken.entry(), context))
                        .hasMessageStartingWith("another verification of job 'cache' is running");
                ScratchRestore.Probes result = ((RedisScratch) scratch).probe(recorded, probes);
                assertThat(result.rows()).isEqualTo(1007);
                assertThat(result.tables()).isEqualTo(2);
                assertThat(result.outcomes()).extracting(ScratchRestore.Outcome::name).containsExactly(
                        "keys-per-database", "keys", "hash", "quoted", "missing", "members");
                assertThat(result.outcomes()).allMatch(o -> o.result().equals("passed"));
                assertThat(result.summary()).isEqualTo("2 database(s), 1007 keys, keys per database as recorded; "
                        + "5 probe(s) passed");

                // The manifest records no engine details yet: the built-in comparison is skipped, not failed.
                ScratchRestore.Probes fromManifest = scratch.probe(taken.entry().manifest(), List.of());
                assertThat(fromManifest.outcomes().get(0).result()).isIn("passed", "skipped");

                assertThatThrownBy(() -> ((RedisScratch) scratch).probe(recorded, Probe.parse("cache",
                        "hash-size: HLEN hash => > 500")))
                        .isInstanceOf(StowageException.class)
                        .hasMessage("probe 'hash-size' failed: value 200, expected > 500");
                assertThatThrownBy(() -> ((RedisScratch) scratch).probe(recorded, Probe.parse("cache",
                        "typo: HLEN => = 1")))
                        .hasMessageStartingWith("probe 'typo' failed: ERR wrong number of arguments");

                RedisScratch.Recorded wrong = new RedisScratch.Recorded(Map.of("db0", 507L, "db1", 499L), Map.of(),
                        Map.of());
                assertThatThrownBy(() -> ((RedisScratch) scratch).probe(wrong, List.of()))
                        .hasMessage("probe 'keys-per-database' failed: db1 has 500 keys after the restore, the backup "
                                + "recorded 499");
            }
            assertThat(directory).doesNotExist();
        }
    }

    @Test
    void aScratchServerAKilledRunLeftIsStoppedAndItsDirectoryReplaced() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            RedisTesting.Taken taken = backup(redis, context, Map.of());
            Path left = Files.createDirectories(context.scratchRoot().resolve("cache-redis"));
            Files.writeString(left.resolve("stale"), "x");
            Process leftover = new ProcessBuilder("redis-server", "--port", "0", "--unixsocket",
                    left.resolve("redis.sock").toString(), "--daemonize", "yes", "--pidfile",
                    left.resolve("redis.pid").toString(), "--dir", left.toString(), "--save", "",
                    "--logfile", left.resolve("redis.log").toString()).start();
            assertThat(leftover.waitFor()).isZero();
            long pid = 0;
            for (int i = 0; i < 100 && pid == 0; i++) {
                pid = RedisServer.pid(left.resolve("redis.pid")).orElse(0L);
                Thread.sleep(50);
            }
            assertThat(pid).isPositive();
            try (ScratchRestore scratch = engine.restoreForVerification(RedisTesting.job(redis, null, Map.of()),
                    taken.entry(), context)) {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
                assertThat(left.resolve("stale")).doesNotExist();
                assertThat(scratch.probe(taken.entry().manifest(), List.of()).rows()).isEqualTo(1007);
            }
            assertThat(left).doesNotExist();
        }
    }

    @Test
    void keysWithAnExpiryThatPassedMayBeMissingAndNoMore() {
        RedisScratch.Recorded recorded = new RedisScratch.Recorded(Map.of("db0", 10L), Map.of("db0", 3L),
                Map.of("db0", 1_000L));
        assertThat(recorded.compare(Map.of("db0", 10L), 500)).isNull();
        assertThat(recorded.compare(Map.of("db0", 9L), 500)).contains("db0 has 9 keys");
        assertThat(recorded.compare(Map.of("db0", 7L), 2_000)).isNull();
        assertThat(recorded.compare(Map.of("db0", 6L), 2_000)).contains("of which 3 with an expiry");
        assertThat(recorded.compare(Map.of("db0", 10L, "db1", 1L), 2_000)).contains("db1 has 1 keys");
    }

    @Test
    void verificationRefusesADamagedObjectAndLeavesNothing() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start()) {
            RedisTesting.Context context = new RedisTesting.Context(root);
            RedisTesting.Taken taken = backup(redis, context, Map.of());
            Job job = RedisTesting.job(redis, null, Map.of());
            Path object = context.repository.file(io.stowage.catalog.Catalog.objectKey("cache", taken.entry().id(),
                    "dump.rdb.zst"));
            byte[] bytes = Files.readAllBytes(object);
            bytes[bytes.length / 2] ^= 0x40;
            Files.write(object, bytes);

            assertThatThrownBy(() -> engine.restoreForVerification(job, taken.entry(), context))
                    .isInstanceOf(StowageException.class)
                    .hasMessageContaining("in repository 'local' is corrupt: SHA-256")
                    .hasMessageContaining("nothing was restored");
            try (var left = Files.list(context.scratchRoot())) {
                assertThat(left).isEmpty();
            }
            Path datadir = root.resolve("target");
            assertThatThrownBy(() -> engine.restore(job, RedisBackupTest.request(datadir, false, false, 0), context))
                    .hasMessageContaining("is corrupt: SHA-256");
            assertThat(datadir).doesNotExist();
        }
    }

    @Test
    void probesSplitOnWhitespaceWithDoubleQuotes() {
        assertThat(RedisProbes.arguments("GET \"a b\"  c")).containsExactly("GET", "a b", "c");
        assertThat(RedisProbes.arguments("SET k \"say \\\"hi\\\"\"")).containsExactly("SET", "k", "say \"hi\"");
        assertThatThrownBy(() -> engine.validate(new Job("cache", "redis", "rdb", "cache",
                Map.of("probes", "bad: GET \"open => empty"))))
                .hasMessageContaining("probe 'bad' has an unclosed double quote");
    }
}
