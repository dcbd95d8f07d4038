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

    /** The {@code engineDetails} of a manifest, or null when it has none. */
    static JsonNode of(Manifest manifest) {
        JsonNode details = manifest.engineDetails();
        return details == null || details.isEmpty() ? null : details;
    }

    private static final java.util.regex.Pattern DATABASE = java.util.regex.Pattern.compile("db\\d{1,5}");

    /**
     * What makes a manifest's details unusable, or null: verification compares the restored server with them, so a
     * database name that is not {@code db<n>}, a count that is not a whole number of zero or more, or an expiry that
     * is not a time makes the manifest damaged.
     */
    static String problem(Manifest manifest) {
        JsonNode details = manifest.engineDetails();
        for (String field : java.util.List.of("keyspace", "volatileKeys", "serverKeyspace")) {
            JsonNode counts = details.get(field);
            if (counts == null || counts.isNull()) {
                continue;
            }
            if (!counts.isObject()) {
                return "its " + field + " is not an object";
            }
            for (var entry : (Iterable<Map.Entry<String, JsonNode>>) counts::fields) {
                if (!DATABASE.matcher(entry.getKey()).matches() || !entry.getValue().canConvertToLong()
                        || !entry.getValue().isIntegralNumber() || entry.getValue().asLong() < 0) {
                    return "its " + field + " entry '" + entry.getKey() + "' is not a database and a key count";
                }
            }
        }
        JsonNode expiries = details.get("firstExpiry");
        if (expiries != null && !expiries.isNull()) {
            if (!expiries.isObject()) {
                return "its firstExpiry is not an object";
            }
            for (var entry : (Iterable<Map.Entry<String, JsonNode>>) expiries::fields) {
                try {
                    Instant.parse(entry.getValue().asText());
                } catch (java.time.format.DateTimeParseException e) {
                    return "its firstExpiry entry '" + entry.getKey() + "' is not a time";
                }
                if (!DATABASE.matcher(entry.getKey()).matches()) {
                    return "its firstExpiry entry '" + entry.getKey() + "' is not a database";
                }
            }
        }
        return null;
    }
}
