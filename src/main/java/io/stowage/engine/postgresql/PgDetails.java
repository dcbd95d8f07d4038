package io.stowage.engine.postgresql;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a PostgreSQL backup's manifest holds in {@code engineDetails}: {@code wal} for a physical backup (the WAL range
 * it needs), {@code contents} for a logical one (what the dump held). Format version 1 kept both at the top level;
 * the catalog moves them here when it reads such a manifest.
 */
public final class PgDetails {
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");

    private PgDetails() {
    }

    /**
     * For physical backups: the timeline, the WAL locations where the backup starts and stops, the segments that
     * hold them (every segment from start to stop is needed to restore it) and the segment size.
     */
    public record Wal(int timeline, String start, String stop, String startSegment, String stopSegment,
                      long segmentSize) {
    }

    /**
     * For logical backups: what the dump holds, read from it as it was stored (rows per table, keyed
     * {@code schema.table}; the number of indexes and foreign keys it creates), which verification compares with the
     * restored database.
     */
    public record Contents(Map<String, Long> tables, int indexes, int foreignKeys) {
    }

    /** The backup's WAL range, or null when it has none (a logical backup). */
    public static Wal wal(Manifest manifest) {
        return read(manifest, "wal", Wal.class);
    }

    /** What the dump held, or null when the backup did not record it. */
    public static Contents contents(Manifest manifest) {
        return read(manifest, "contents", Contents.class);
    }

    static Map<String, Object> of(Wal wal, Contents contents) {
        Map<String, Object> details = new LinkedHashMap<>();
        if (wal != null) {
            details.put("wal", wal);
        }
        if (contents != null) {
            details.put("contents", contents);
        }
        return details;
    }

    private static <T> T read(Manifest manifest, String field, Class<T> type) {
        JsonNode node = manifest.engineDetails().get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        try {
            return ManifestCodec.JSON.treeToValue(node, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalArgumentException("its " + field + " is not valid", e);
        }
    }

    /** What makes a manifest's details unusable (the manifest is then damaged), or null. */
    static String problem(Manifest manifest) {
        Wal wal;
        try {
            wal = wal(manifest);
            contents(manifest);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (wal != null && (wal.timeline() < 1 || wal.startSegment() == null || wal.stopSegment() == null
                || !SEGMENT.matcher(wal.startSegment()).matches() || !SEGMENT.matcher(wal.stopSegment()).matches()
                || wal.startSegment().compareTo(wal.stopSegment()) > 0
                || wal.segmentSize() <= 0 || Long.bitCount(wal.segmentSize()) != 1)) {
            return "its WAL range (timeline, start and stop segments, segment size) is not valid";
        }
        return null;
    }
}
