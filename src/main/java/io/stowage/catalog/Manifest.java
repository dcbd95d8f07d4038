package io.stowage.catalog;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a backup is and how to read it back: written last, as {@code manifest.json}, into every repository that holds
 * a complete copy. What only its engine understands (PostgreSQL's WAL range and rows per table, Redis's keys per
 * database) is in {@code engineDetails}, which the engine reads and checks. The format is documented in docs/repository-format.md; {@link #FORMAT_VERSION} changes whenever a
 * reader of the previous version could misread a new manifest.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"formatVersion", "id", "job", "engine", "type", "method", "parent", "started", "finished",
        "sizeBytes", "storedBytes", "compression", "encryption", "objects", "tool", "server", "database", "engineDetails"})
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
        JsonNode engineDetails) {

    /** The version this release writes. Version 1 (PostgreSQL's {@code wal} and {@code contents} at the top level) is read too. */
    public static final int FORMAT_VERSION = 2;
    /** Every version this release reads. */
    public static final java.util.Set<Integer> READABLE_VERSIONS = java.util.Set.of(1, 2);

    public Manifest {
        engineDetails = engineDetails == null || engineDetails.isNull() || engineDetails.isMissingNode()
                ? com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode() : engineDetails;
    }
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

    public boolean encrypted() {
        return encryption != null;
    }
}
