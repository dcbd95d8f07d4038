package io.stowage.catalog;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a backup is and how to read it back: written last, as {@code manifest.json}, into every repository that holds
 * a complete copy. The format is documented in docs/repository-format.md; {@link #FORMAT_VERSION} changes whenever a
 * reader of the previous version could misread a new manifest.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"formatVersion", "id", "job", "engine", "type", "method", "parent", "started", "finished",
        "sizeBytes", "storedBytes", "compression", "encryption", "objects", "tool", "server", "database", "wal", "contents"})
public record Manifest(
        int formatVersion,
        String id,
        String job,
        String engine,
        BackupType type,
        String method,
        String parent,
        Instant started,
        Instant finished,
        long sizeBytes,
        long storedBytes,
        Compression compression,
        Encryption encryption,
        List<StoredObject> objects,
        Tool tool,
        Server server,
        String database,
        Wal wal,
        Contents contents) {

    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";

    /** The codec every object of the backup is compressed with. */
    public record Compression(String codec, int level) {
    }

    /**
     * Null when the backup is not encrypted. {@code recipients}: the age public keys it is encrypted to (empty when
     * {@code passphrase}); {@code passphrase}: encrypted with a passphrase (age scrypt) instead. A manifest written
     * before passphrases existed has no {@code passphrase} field, read as false.
     */
    @JsonPropertyOrder({"format", "recipients", "passphrase"})
    public record Encryption(String format, List<String> recipients, boolean passphrase) {
        public Encryption {
            recipients = recipients == null ? List.of() : List.copyOf(recipients);
        }
    }

    /** One stored object: its name inside the backup's directory, sizes, and SHA-256 of the stored bytes. */
    public record StoredObject(String name, long sizeBytes, long storedBytes, String sha256) {
    }

    /** The tool that produced the data, for example pg_dump and its version. */
    public record Tool(String name, String version) {
    }

    /** The database server the backup was taken from. */
    public record Server(String version, Map<String, String> details) {
    }

    /**
     * For physical backups: the timeline, the WAL locations where the backup starts and stops, the segments that
     * hold them (every segment from start to stop is needed to restore it) and the segment size. Null otherwise.
     */
    public record Wal(int timeline, String start, String stop, String startSegment, String stopSegment,
                      long segmentSize) {
    }

    /**
     * For logical PostgreSQL backups: what the dump holds, read from it as it was stored (rows per table, keyed
     * {@code schema.table}; the number of indexes and foreign keys it creates), which verification compares with the
     * restored database. Null when the backup did not record it (older backups, or a dump it could not read).
     */
    public record Contents(Map<String, Long> tables, int indexes, int foreignKeys) {
    }

    public boolean encrypted() {
        return encryption != null;
    }
}
