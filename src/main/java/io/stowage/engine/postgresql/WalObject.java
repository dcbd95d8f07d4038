package io.stowage.engine.postgresql;

import io.stowage.crypto.AgeEncryption;
import io.stowage.pipeline.Codec;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.util.Optional;

/**
 * One archived WAL object's file name under {@code <job>/wal/}, taken apart: the PostgreSQL file it holds (a segment,
 * a timeline history file or a backup history file), the codec it is compressed with and whether it is age-encrypted;
 * or, for {@code <object>.sha256}, the checksum file of that object (one {@code sha256sum} line: the SHA-256 of the
 * stored bytes, so that {@code sha256sum -c} checks it); or {@code <segment>.partial.zst[.age]}, the latest copy of a
 * segment pg_receivewal is still receiving (overwritten as it grows, removed once the segment is complete; it has
 * no checksum file). Anything else under the prefix is not a WAL object.
 */
public record WalObject(String file, String walName, Codec codec, boolean encrypted, boolean checksumFile,
                        boolean partial) {
    public static final String CHECKSUM_EXTENSION = io.stowage.repository.ChecksumFiles.EXTENSION;
    /** pg_receivewal's name for the segment it is still receiving, and Stowage's for its copy of that segment. */
    public static final String PARTIAL_EXTENSION = ".partial";

    public static Optional<WalObject> parse(String file) {
        boolean checksum = file.endsWith(CHECKSUM_EXTENSION);
        String rest = checksum ? file.substring(0, file.length() - CHECKSUM_EXTENSION.length()) : file;
        boolean encrypted = rest.endsWith(AgeEncryption.EXTENSION);
        if (encrypted) {
            rest = rest.substring(0, rest.length() - AgeEncryption.EXTENSION.length());
        }
        Codec codec = Codec.NONE;
        for (Codec candidate : Codec.values()) {
            if (!candidate.extension().isEmpty() && rest.endsWith(candidate.extension())) {
                codec = candidate;
                rest = rest.substring(0, rest.length() - candidate.extension().length());
                break;
            }
        }
        boolean partial = rest.endsWith(PARTIAL_EXTENSION);
        if (partial) {
            rest = rest.substring(0, rest.length() - PARTIAL_EXTENSION.length());
            if (!WalNames.isSegment(rest) || checksum) {
                return Optional.empty();
            }
        }
        if (!WalNames.isSegment(rest) && !WalNames.isHistory(rest) && !WalNames.isBackupHistory(rest)) {
            return Optional.empty();
        }
        return Optional.of(new WalObject(file, rest, codec, encrypted, checksum, partial));
    }

    /** Where a job's archived WAL lives: {@code <job>/wal/}. */
    public static String prefix(String job) {
        return job + "/wal/";
    }

    /**
     * Where partial copies of the segment pg_receivewal is still receiving live: {@code <job>/wal-partial/}, beside
     * the archive, so that neither the WAL route (which clears interrupted writes in {@code <job>/wal/}) nor anything
     * reading the archive meets them unasked.
     */
    public static String partialPrefix(String job) {
        return job + "/wal-partial/";
    }

    /** Parses the last part of a repository key. */
    public static Optional<WalObject> ofKey(String key) {
        return parse(key.substring(key.lastIndexOf('/') + 1));
    }

    /** A complete WAL segment (not a partial one). */
    public boolean isSegment() {
        return !partial && WalNames.isSegment(walName);
    }

    public boolean isHistory() {
        return WalNames.isHistory(walName);
    }

    /** The name of this object's checksum file (for a data object). */
    public String checksumFileName() {
        return file + CHECKSUM_EXTENSION;
    }

    /** The {@code sha256sum} line of a checksum file for {@code dataFile}. */
    public static String checksumLine(String sha256, String dataFile) {
        return io.stowage.repository.ChecksumFiles.line(sha256, dataFile);
    }

    /** Reads the SHA-256 (hex) a checksum file holds; fails when it is not a checksum file. */
    public static String readChecksum(Repository repository, String key) throws IOException {
        return io.stowage.repository.ChecksumFiles.read(repository, key);
    }

    /** The SHA-256 (hex) in a checksum file's content, or null when it is not one. */
    public static String checksumOf(String content) {
        return io.stowage.repository.ChecksumFiles.of(content);
    }
}
