package io.stowage.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.ThrowawayRedis;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RDB reader on bytes made here (what it does with what it cannot read) and on a disk-based transfer. */
class RdbKeyspaceTest {
    @TempDir
    Path root;
    private List<Long> serversBefore;

    @org.junit.jupiter.api.BeforeEach
    void servers() {
        serversBefore = ThrowawayRedis.runningServers();
    }

    @org.junit.jupiter.api.AfterEach
    void noServerLeftRunning() {
        assertThat(ThrowawayRedis.runningServers()).isSubsetOf(serversBefore);
    }

    private static byte[] rdb(int... tail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("REDIS0010".getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(new byte[] {(byte) 0xFA, 3, 'a', 'b', 'c', 1, 'x'}); // AUX abc=x
        for (int b : tail) {
            out.write(b);
        }
        return out.toByteArray();
    }

    private static RdbKeyspace read(byte[] bytes, int chunk) {
        RdbKeyspace keyspace = new RdbKeyspace();
        for (int i = 0; i < bytes.length; i += chunk) {
            keyspace.feed(bytes, i, Math.min(chunk, bytes.length - i));
        }
        keyspace.end();
        return keyspace;
    }

    @Test
    void countsKeysPerDatabaseWithExpiriesInAnyChunking() {
        byte[] bytes = rdb(0xFE, 0, 0xFB, 2, 1,
                0, 1, 'k', 1, 'v',                                     // db0: k = v
                0xFC, 0xE8, 0x03, 0, 0, 0, 0, 0, 0, 0, 2, 'k', '2', 0xC0, 7, // db0: k2 = int 7, expires at 1000 ms
                0xFE, 3, 0, 1, 'z', 1, 'w',                           // db3: z = w
                0xFF, 1, 2, 3, 4, 5, 6, 7, 8);
        for (int chunk : new int[] {1, 3, bytes.length}) {
            RdbKeyspace keyspace = read(bytes, chunk);
            assertThat(keyspace.complete()).isTrue();
            assertThat(keyspace.length()).isEqualTo(bytes.length);
            assertThat(keyspace.version()).isEqualTo(10);
            assertThat(keyspace.aux()).containsEntry("abc", "x");
            assertThat(keyspace.databases()).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of(
                    "db0", new RdbKeyspace.Database(2, 1, 1000), "db3", new RdbKeyspace.Database(1, 0, -1))));
        }
    }

    @Test
    void anUnknownTypeOrACutStreamStopsTheCountWithoutFailing() {
        RdbKeyspace unknown = read(rdb(0xFE, 0, 99, 1, 'k', 0xFF), 4);
        assertThat(unknown.complete()).isFalse();
        assertThat(unknown.unreadable()).contains("value of type 99");
        assertThat(RedisDetails.of(unknown, "master", Map.of())).containsKey("keyspaceUnread")
                .doesNotContainKey("keyspace");

        RdbKeyspace cut = read(rdb(0xFE, 0, 0, 1, 'k', 5, 'v'), 2);
        assertThat(cut.complete()).isFalse();
        assertThat(cut.unreadable()).isEqualTo("the RDB ended before its end marker");

        RdbKeyspace notRdb = read("hello world, no RDB here".getBytes(StandardCharsets.US_ASCII), 5);
        assertThat(notRdb.unreadable()).contains("not an RDB file");
        assertThat(notRdb.version()).isEqualTo(-1);
    }

    @Test
    void aDiskBasedTransferHasNoMarkAndIsStoredWhole() throws Exception {
        try (ThrowawayRedis redis = ThrowawayRedis.start(null, "--repl-diskless-sync", "no")) {
            redis.loadSample(2, 1000, 1, 1 << 20);
            RedisTesting.Context context = new RedisTesting.Context(root);
            RedisEngine engine = new RedisEngine();
            RedisTesting.Taken taken = RedisTesting.backup(engine, RedisTesting.job(redis, null, Map.of()), context);
            assertThat(taken.details().get("keyspace")).isEqualTo(Map.of("db0", 1007L, "db1", 1000L));
            Path datadir = root.resolve("data");
            engine.restore(RedisTesting.job(redis, null, Map.of()), RedisBackupTest.request(datadir, false, false, 0),
                    context);
            Process check = new ProcessBuilder("redis-check-rdb", datadir.resolve("dump.rdb").toString())
                    .redirectErrorStream(true).start();
            String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(check.waitFor()).as(out).isZero();
            assertThat(out).contains("Checksum OK").contains("2007 keys read");
        }
    }
}
