package io.stowage.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.engine.EngineContractTest;
import io.stowage.testing.ThrowawayRedis;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The engine contract for Redis (redis-cli --rdb), through the shipped route template and the command line, against
 * a real redis-server with a password, three databases and some 24 MB of values.
 */
class RedisContractTest extends EngineContractTest {
    private static final String PASSWORD = "r3dis-contract-pw";
    private static ThrowawayRedis redis;

    @BeforeAll
    static void startServer() throws Exception {
        redis = ThrowawayRedis.start(PASSWORD);
        redis.loadSample(3, 2000, 8, 3 * 1024 * 1024);
    }

    @AfterAll
    static void stopServer() {
        if (redis != null) {
            redis.close();
        }
    }

    private static List<String> connection(int port, String password) {
        return List.of("host", "127.0.0.1", "port", Integer.toString(port), "password", password);
    }

    @Override
    protected Workspace workspace(Path dir) throws Exception {
        return new Workspace(dir).templatedJob(JOB, "redis", connection(redis.port(), PASSWORD), "");
    }

    @Override
    protected Workspace withWrongPassword(Path dir) throws Exception {
        return new Workspace(dir).templatedJob(JOB, "redis", connection(redis.port(), "not-the-password"), "");
    }

    @Override
    protected List<String> wrongPasswordWords() {
        return List.of("WRONGPASS", "invalid username-password pair", "password");
    }

    @Override
    protected Workspace unreachable(Path dir, int port) throws Exception {
        return new Workspace(dir).templatedJob(JOB, "redis", connection(port, PASSWORD), "");
    }

    @Override
    protected List<String> unsupportedTarget(Path dir) {
        return List.of("--target-database", "cache_copy");
    }

    @Override
    protected List<String> restoreTarget(Path target) {
        return List.of("--target-datadir", target.toString());
    }

    @Override
    protected void assertRestoredEqualsSource(Path target) throws Exception {
        try (ThrowawayRedis restored = ThrowawayRedis.start(null, "--dir", target.toString(), "--dbfilename",
                "dump.rdb")) {
            Map<String, Object> source = fingerprint(redis);
            assertThat(source.get("db2 keys")).isEqualTo(2000L);
            assertThat((List<?>) source.get("db1 values")).allSatisfy(v -> assertThat(v).asString()
                    .startsWith("value-"));
            assertThat(source.get("big:7").toString()).endsWith("/" + 3 * 1024 * 1024);
            assertThat(fingerprint(restored)).isEqualTo(source);
        }
    }

    /** Keys per database, some values of each database, and a digest of each big value. */
    private static Map<String, Object> fingerprint(ThrowawayRedis server) throws Exception {
        Map<String, Object> print = new TreeMap<>();
        for (int db = 0; db < 3; db++) {
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < 2000; i += 97) {
                values.add(server.call("EVAL", "redis.call('SELECT', ARGV[1]) return redis.call('GET', KEYS[1])", "1",
                        "key:" + db + ":" + i, Integer.toString(db)));
            }
            print.put("db" + db + " keys", server.call("EVAL", "redis.call('SELECT', ARGV[1]) return "
                    + "redis.call('DBSIZE')", "0", Integer.toString(db)));
            print.put("db" + db + " values", values);
        }
        for (int i = 0; i < 8; i++) {
            Object big = server.call("GET", "big:" + i);
            print.put("big:" + i, big == null ? null : Integer.toHexString(big.hashCode()) + "/"
                    + big.toString().length());
        }
        print.put("hash", server.call("HLEN", "hash"));
        print.put("stream", server.call("XLEN", "stream"));
        return print;
    }
}
