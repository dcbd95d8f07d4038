package io.stowage.engine;

import io.stowage.pipeline.BackupStream;
import java.util.Map;

/**
 * A started backup: the stream of its bytes (with any engine tap staged first, which reads what passes) and what the
 * manifest records about where they came from. {@link #details()} is asked once the stream has been stored, so a tap
 * can report what it read.
 */
public interface BackupSource {
    BackupStream stream();

    /** The tool that produced the bytes, for example {@code pg_dump}, and its version. */
    String toolName();

    String toolVersion();

    /** The server's version. */
    String serverVersion();

    /** The database the backup was taken from, or null when it holds a whole server. */
    default String database() {
        return null;
    }

    /** Identity facts about the server (a cluster's system identifier), kept in the manifest's {@code server}. */
    default Map<String, String> serverDetails() {
        return Map.of();
    }

    /**
     * The engine's own facts about this backup, for the manifest's {@code engineDetails} (PostgreSQL: WAL range, rows
     * per table; Redis: keys per database): JSON-serialisable values (maps, lists, strings, numbers), or an empty map.
     * Called after the stream was stored.
     */
    Map<String, Object> details();
}
