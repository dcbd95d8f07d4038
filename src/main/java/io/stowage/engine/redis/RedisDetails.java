package io.stowage.engine.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The engine's facts about a Redis backup, as the manifest's {@code engineDetails} keeps them:
 *
 * <pre>{"rdbVersion": 10, "keyspace": {"db0": 123, "db3": 4}, "volatileKeys": {"db0": 7},
 *  "firstExpiry": {"db0": "2026-12-01T02:00:00Z"}, "role": "master", "serverKeyspace": {"db0": 124}}</pre>
 *
 * {@code keyspace}: keys per database as counted in the RDB itself while it was stored (absent, with
 * {@code keyspaceUnread} saying why, when the RDB held something this Stowage cannot read); {@code volatileKeys} and
 * {@code firstExpiry}: per database, how many of those keys have an expiry and the earliest; {@code serverKeyspace}:
 * what INFO keyspace said just before the snapshot (for the operator: on a busy server it differs from the RDB).
 */
final class RedisDetails {
    private RedisDetails() {
    }

    static Map<String, Object> of(RdbKeyspace rdb, String role, Map<String, Long> serverKeyspace) {
        Map<String, Object> details = new LinkedHashMap<>();
        if (rdb.version() >= 0) {
            details.put("rdbVersion", rdb.version());
        }
        if (rdb.complete()) {
            Map<String, Long> keys = new LinkedHashMap<>();
            Map<String, Long> volatileKeys = new LinkedHashMap<>();
            Map<String, String> firstExpiry = new LinkedHashMap<>();
            rdb.databases().forEach((db, d) -> {
                keys.put(db, d.keys());
                if (d.volatileKeys() > 0) {
                    volatileKeys.put(db, d.volatileKeys());
                    firstExpiry.put(db, Instant.ofEpochMilli(d.firstExpiryMillis()).toString());
                }
            });
            details.put("keyspace", keys);
            details.put("volatileKeys", volatileKeys);
            details.put("firstExpiry", firstExpiry);
        } else {
            details.put("keyspaceUnread", rdb.unreadable() == null ? "not read" : rdb.unreadable());
        }
        details.put("role", role);
        details.put("serverKeyspace", serverKeyspace);
        return details;
    }

    /**
     * The {@code engineDetails} of a manifest, or null. Read through the manifest's JSON form, so that it follows the
     * manifest's own field whatever Java type holds it.
     */
    static JsonNode of(Manifest manifest) {
        JsonNode tree = ManifestCodec.JSON.valueToTree(manifest);
        JsonNode details = tree.get("engineDetails");
        return details == null || details.isNull() ? null : details;
    }
}
