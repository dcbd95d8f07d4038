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

    /** A database's name as the RDB reader writes it: {@code db} and its number (0 to 2^31 - 1, as Redis allows). */
    private static final java.util.regex.Pattern DATABASE = java.util.regex.Pattern.compile("db(0|[1-9]\\d{0,9})");

    private static boolean database(String name) {
        return DATABASE.matcher(name).matches() && Long.parseLong(name.substring(2)) <= Integer.MAX_VALUE;
    }

    /**
     * What makes a manifest's details unusable, or null: verification compares the restored server with them, so a
     * database name that is not {@code db<n>}, a count that is not a whole number of zero or more, more keys with an
     * expiry than keys, or an expiry that is not a time (in the range of epoch milliseconds) where a database has keys
     * with one, makes the manifest damaged.
     */
    static String problem(Manifest manifest) {
        JsonNode details = manifest.engineDetails();
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        for (String field : java.util.List.of("keyspace", "volatileKeys", "serverKeyspace")) {
            JsonNode node = details.get(field);
            if (node == null || node.isNull()) {
                continue;
            }
            if (!node.isObject()) {
                return "its " + field + " is not an object";
            }
            Map<String, Long> values = new LinkedHashMap<>();
            for (var entry : (Iterable<Map.Entry<String, JsonNode>>) node::fields) {
                if (!database(entry.getKey()) || !entry.getValue().isIntegralNumber()
                        || !entry.getValue().canConvertToLong() || entry.getValue().asLong() < 0) {
                    return "its " + field + " entry '" + entry.getKey() + "' is not a database and a key count";
                }
                values.put(entry.getKey(), entry.getValue().asLong());
            }
            counts.put(field, values);
        }
        Map<String, Long> keys = counts.getOrDefault("keyspace", Map.of());
        Map<String, Long> volatileKeys = counts.getOrDefault("volatileKeys", Map.of());
        for (Map.Entry<String, Long> entry : volatileKeys.entrySet()) {
            if (entry.getValue() > keys.getOrDefault(entry.getKey(), 0L)) {
                return "its volatileKeys entry '" + entry.getKey() + "' counts more keys than its keyspace";
            }
        }
        JsonNode expiries = details.get("firstExpiry");
        Map<String, JsonNode> firstExpiry = new LinkedHashMap<>();
        if (expiries != null && !expiries.isNull()) {
            if (!expiries.isObject()) {
                return "its firstExpiry is not an object";
            }
            expiries.fields().forEachRemaining(e -> firstExpiry.put(e.getKey(), e.getValue()));
        }
        for (Map.Entry<String, JsonNode> entry : firstExpiry.entrySet()) {
            if (!database(entry.getKey()) || volatileKeys.getOrDefault(entry.getKey(), 0L) == 0) {
                return "its firstExpiry entry '" + entry.getKey() + "' is not a database with keys that expire";
            }
            try {
                Instant.parse(entry.getValue().asText()).toEpochMilli();
            } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
                return "its firstExpiry entry '" + entry.getKey() + "' is not a time";
            }
        }
        for (Map.Entry<String, Long> entry : volatileKeys.entrySet()) {
            if (entry.getValue() > 0 && !firstExpiry.containsKey(entry.getKey())) {
                return "its volatileKeys entry '" + entry.getKey() + "' has no firstExpiry";
            }
        }
        return null;
    }
}
