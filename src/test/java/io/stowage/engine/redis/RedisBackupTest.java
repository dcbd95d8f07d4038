package io.stowage.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.engine.RestoreRequest;
import io.stowage.engine.RestoreResult;
import io.stowage.job.Job;
import io.stowage.testing.ThrowawayRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RDB source against a real redis-server: what it streams loads into another server with the same keys. */
class RedisBackupTest {
    private static final String PASSWORD = "s3cret-redis-test-pw";
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

    @Test
    void streamsAnRdbThatAnotherServerLoadsWithTheSameKeys() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start(PASSWORD)) {
            redis.loadSample(3, 2000, 4, 3 << 20);
            redis.call("SET", "ttl-key", "soon", "PX", "3600000");
            redis.call("FUNCTION", "LOAD", "#!lua name=stowagetest\n"
                    + "redis.register_function('answer', function(keys, args) return 42 end)");
            Map<String, String> before = keyspace(redis);
            Job job = RedisTesting.job(redis, PASSWORD, Map.of());
            RedisTesting.Context context = new RedisTesting.Context(root);

            RedisTesting.Taken taken = RedisTesting.backup(engine, job, context);

            assertThat(taken.result().objectName()).isEqualTo("dump.rdb.zst");
            assertThat(taken.result().rawBytes()).isGreaterThan(4L << 20); // the RDB compresses strings (LZF)
            assertThat(taken.source().toolName()).isEqualTo("redis-cli");
            assertThat(taken.source().serverVersion()).matches("\\d+\\.\\d+\\.\\d+");
            assertThat(taken.source().serverDetails()).containsEntry("role", "master");
            Map<String, Object> details = taken.details();
            @SuppressWarnings("unchecked")
            Map<String, Long> keys = (Map<String, Long>) details.get("keyspace");
            Map<String, Long> expected = new java.util.LinkedHashMap<>();
            expected.put("db0", Long.parseLong(before.get("db0")));
            expected.put("db1", 2000L);
            expected.put("db2", 2000L);
            assertThat(keys).containsExactlyEntriesOf(expected);
            assertThat(details.get("role")).isEqualTo("master");
            assertThat(details).containsKey("rdbVersion");
            assertThat(details.get("volatileKeys")).isEqualTo(Map.of("db0", 1L));
            assertThat(Files.readString(context.repository.file(io.stowage.catalog.Catalog.manifestKey("cache",
                    taken.entry().id())))).doesNotContain(PASSWORD);

            int port = ThrowawayRedis.freePort();
            Path datadir = root.resolve("restored");
            RestoreResult restored = engine.restore(job, request(datadir, false, true, port), context);
            try {
                assertThat(restored.summary()).contains("restored backup " + taken.entry().id() + " of job cache into "
                        + datadir).contains("dump.rdb, " + (Long.parseLong(before.get("db0")) + 4000)
                        + " keys in 3 database(s)").contains("started on 127.0.0.1:" + port);
                assertThat(Files.size(datadir.resolve("dump.rdb"))).isEqualTo(taken.result().rawBytes());
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(datadir))).isEqualTo("rwx------");
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(datadir.resolve("dump.rdb"))))
                        .isEqualTo("rw-------");
                RedisCli restoredCli = new RedisCli(RedisConnection.local(port, null));
                assertThat(restoredCli.keyspace()).containsEntry("db0", Long.parseLong(before.get("db0")))
                        .containsEntry("db1", 2000L).containsEntry("db2", 2000L);
                assertThat(restoredCli.require("STRLEN", "big:3").text()).isEqualTo(Integer.toString(3 << 20));
                assertThat(restoredCli.require("XLEN", "stream").text()).isEqualTo("200");
                assertThat(restoredCli.require("GET", "ttl-key").text()).isEqualTo("soon");
                assertThat(restoredCli.require("FCALL", "answer", "0").text()).isEqualTo("42");
            } finally {
                new RedisCli(RedisConnection.local(port, null)).command("SHUTDOWN", "NOSAVE");
                waitForPidGone(datadir);
            }
        }
    }

    @Test
    void aWrongPasswordIsOneClearLineWithoutThePassword() {
        try (ThrowawayRedis redis = ThrowawayRedis.start(PASSWORD)) {
            Job job = RedisTesting.job(redis, "not-the-password", Map.of());
            assertThatThrownBy(() -> RedisTesting.backup(engine, job, new RedisTesting.Context(root)))
                    .isInstanceOf(StowageException.class)
                    .hasMessageContaining("Redis at 127.0.0.1:" + redis.port() + " refused the login: WRONGPASS")
                    .hasMessageContaining("HINT: check the job's password")
                    .hasMessageNotContaining("not-the-password")
                    .satisfies(e -> assertThat(((StowageException) e).isTransient()).isFalse());
        }
    }

    @Test
    void aServerThatNeedsAPasswordSaysSo() {
        try (ThrowawayRedis redis = ThrowawayRedis.start(PASSWORD)) {
            Job job = RedisTesting.job(redis, null, Map.of());
            assertThatThrownBy(() -> RedisTesting.backup(engine, job, new RedisTesting.Context(root)))
                    .hasMessageContaining("the server needs a password: set the job's password parameter");
        }
    }

    @Test
    void anUnreachableServerIsATransientClearLine() throws Exception {
        int port = ThrowawayRedis.freePort();
        Job job = new Job("cache", "redis", "rdb", "cache", Map.of("host", "127.0.0.1", "port",
                Integer.toString(port)));
        assertThatThrownBy(() -> RedisTesting.backup(engine, job, new RedisTesting.Context(root)))
                .isInstanceOf(StowageException.class)
                .hasMessageStartingWith("cannot reach Redis at 127.0.0.1:" + port + ": Connection refused")
                .hasMessageContaining("HINT: is the server running")
                .satisfies(e -> assertThat(((StowageException) e).isTransient()).isTrue());
    }

    @Test
    void aServerWithoutSyncIsRefusedWithTheManagedServiceHint() {
        try (ThrowawayRedis redis = ThrowawayRedis.start(null, "--rename-command", "SYNC", "",
                "--rename-command", "PSYNC", "")) {
            Job job = RedisTesting.job(redis, null, Map.of());
            assertThatThrownBy(() -> RedisTesting.backup(engine, job, new RedisTesting.Context(root)))
                    .isInstanceOf(StowageException.class)
                    .hasMessageContaining("refused the replication stream that redis-cli --rdb needs")
                    .hasMessageContaining("HINT: managed services (ElastiCache, MemoryStore, Azure Cache) disable SYNC");
            List<String> lines = new java.util.ArrayList<>();
            engine.check(job, new RedisTesting.Context(root), report(lines));
            assertThat(lines).anyMatch(l -> l.startsWith("FAIL the server has no SYNC command"));
        }
    }

    @Test
    void anAclUserWithoutSyncIsToldWhatToGrant() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start(PASSWORD)) {
            redis.call("ACL", "SETUSER", "reader", "on", ">reader-pw-1", "+info", "+ping", "+config|get");
            Job job = RedisTesting.job(redis, "reader-pw-1", Map.of("user", "reader"));
            assertThatThrownBy(() -> RedisTesting.backup(engine, job, new RedisTesting.Context(root)))
                    .hasMessageContaining("does not let user 'reader' take an RDB")
                    .hasMessageContaining("HINT: grant +sync and +psync");

            redis.call("ACL", "SETUSER", "backup", "on", ">backup-pw-1", "+sync", "+psync", "+replconf", "+info",
                    "+ping", "+config|get", "+command|info");
            Job allowed = RedisTesting.job(redis, "backup-pw-1", Map.of("user", "backup"));
            assertThat(RedisTesting.backup(engine, allowed, new RedisTesting.Context(root)).result().rawBytes())
                    .isPositive();
        }
    }

    static io.stowage.engine.CheckReport report(List<String> lines) {
        return new io.stowage.engine.CheckReport() {
            public void ok(String line) {
                lines.add("ok " + line);
            }

            public void warn(String line) {
                lines.add("WARN " + line);
            }

            public void fail(String line) {
                lines.add("FAIL " + line);
            }
        };
    }

    @Test
    void checkReportsTheServer() {
        try (ThrowawayRedis redis = ThrowawayRedis.start(PASSWORD)) {
            List<String> lines = new java.util.ArrayList<>();
            engine.check(RedisTesting.job(redis, PASSWORD, Map.of()), new RedisTesting.Context(root),
                    new io.stowage.engine.CheckReport() {
                        public void ok(String line) {
                            lines.add("ok " + line);
                        }

                        public void warn(String line) {
                            lines.add("WARN " + line);
                        }

                        public void fail(String line) {
                            lines.add("FAIL " + line);
                        }
                    });
            assertThat(lines).anyMatch(l -> l.startsWith("ok redis-cli "))
                    .anyMatch(l -> l.startsWith("ok Redis at 127.0.0.1:" + redis.port() + ": Redis ")
                            && l.contains("master"))
                    .anyMatch(l -> l.startsWith("WARN persistence: save '', appendonly no"))
                    .noneMatch(l -> l.startsWith("FAIL"));
        }
    }

    static RestoreRequest request(Path datadir, boolean force, boolean start, int port) {
        return new RestoreRequest("latest", null, null, datadir, null, null, force, start, port, Map.of());
    }

    static Map<String, String> keyspace(ThrowawayRedis redis) throws Exception {
        Map<String, String> keys = new java.util.TreeMap<>();
        for (String line : ((String) redis.call("INFO", "keyspace")).split("\\R")) {
            if (line.startsWith("db")) {
                keys.put(line.substring(0, line.indexOf(':')), line.replaceFirst(".*keys=(\\d+).*", "$1"));
            }
        }
        return keys;
    }

    static void waitForPidGone(Path datadir) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            var pid = RedisServer.pid(datadir.resolve("redis.pid"));
            if (pid.isEmpty() || ProcessHandle.of(pid.get()).map(p -> !p.isAlive()).orElse(true)) {
                return;
            }
            Thread.sleep(100);
        }
    }
}
