package io.stowage.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Redis manifest's engineDetails are what verification compares the restored server with: details the reader
 * writes read back, and crafted ones (a database name, a count, an expiry out of range, more expiring keys than
 * keys) make the manifest damaged instead of crashing or misleading a verification.
 */
class RedisDetailsTest {
    private static Manifest manifest(String details) throws Exception {
        Instant at = Instant.parse("2026-12-01T02:00:00Z");
        return new Manifest(Manifest.FORMAT_VERSION, "20261201T020000Z-F", "cache", RedisEngine.NAME,
                BackupType.FULL, RedisEngine.METHOD, null, at, at.plusSeconds(5), 10, 5,
                new Manifest.Compression("zstd", 1), null, List.of(new Manifest.StoredObject("dump.rdb.zst", 10, 5,
                "ab".repeat(32))), new Manifest.Tool("redis-cli", "7.0.15"), new Manifest.Server("7.0.15", Map.of()),
                null, ManifestCodec.JSON.readTree(details));
    }

    @Test
    void should_accept_what_the_reader_writes_for_any_database_redis_allows() throws Exception {
        assertThat(RedisDetails.problem(manifest("{\"rdbVersion\": 10, \"keyspace\": {\"db0\": 3, \"db2147483647\": 1},"
                + " \"volatileKeys\": {\"db0\": 1}, \"firstExpiry\": {\"db0\": \"2026-12-01T03:00:00Z\"},"
                + " \"role\": \"master\", \"serverKeyspace\": {\"db0\": 4}}"))).isNull();
        assertThat(RedisDetails.problem(manifest("{\"keyspaceUnread\": \"type 22\", \"role\": \"master\"}"))).isNull();
        assertThat(RedisDetails.problem(manifest("{}"))).isNull();
    }

    @Test
    void should_call_crafted_details_unusable() throws Exception {
        Map<String, String> crafted = Map.of(
                "{\"keyspace\": {\"db2147483648\": 1}}", "not a database",
                "{\"keyspace\": {\"db01\": 1}}", "not a database",
                "{\"keyspace\": {\"../db0\": 1}}", "not a database",
                "{\"keyspace\": {\"db0\": -1}}", "not a database and a key count",
                "{\"keyspace\": {\"db0\": 1.5}}", "not a database and a key count",
                "{\"keyspace\": [1]}", "not an object",
                "{\"keyspace\": {\"db0\": 1}, \"volatileKeys\": {\"db0\": 999}, \"firstExpiry\": {\"db0\": \"1970-01-01T00:00:00Z\"}}",
                "counts more keys than its keyspace",
                "{\"keyspace\": {\"db0\": 9}, \"volatileKeys\": {\"db0\": 1}, \"firstExpiry\": {\"db0\": \"+1000000000-01-01T00:00:00Z\"}}",
                "is not a time",
                "{\"keyspace\": {\"db0\": 9}, \"volatileKeys\": {\"db0\": 1}}", "has no firstExpiry",
                "{\"keyspace\": {\"db0\": 9}, \"firstExpiry\": {\"db0\": \"2026-12-01T03:00:00Z\"}}",
                "not a database with keys that expire");
        for (Map.Entry<String, String> c : crafted.entrySet()) {
            assertThat(RedisDetails.problem(manifest(c.getKey()))).as(c.getKey()).isNotNull().contains(c.getValue());
        }
    }
}
