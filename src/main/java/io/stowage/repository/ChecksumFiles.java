package io.stowage.repository;

import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Checksum files beside stored objects ({@code <object>.sha256}): one {@code sha256sum} line with the SHA-256 of the
 * stored bytes, so that {@code sha256sum -c} checks an object with standard tools. Log archives (WAL, binlogs) write
 * one after each object; restores and verification re-hash every log object they read against it.
 */
public final class ChecksumFiles {
    public static final String EXTENSION = ".sha256";

    private ChecksumFiles() {
    }

    /** The {@code sha256sum} line of a checksum file for {@code dataFile}. */
    public static String line(String sha256, String dataFile) {
        return sha256 + "  " + dataFile + "\n";
    }

    /** Reads the SHA-256 (hex) a checksum file holds; fails when it is not a checksum file. */
    public static String read(Repository repository, String key) throws IOException {
        String content;
        try (InputStream in = repository.open(key)) {
            content = new String(in.readNBytes(4096), StandardCharsets.US_ASCII);
        }
        String sha256 = of(content);
        if (sha256 == null) {
            throw new StowageException("checksum file '" + key + "' in repository '" + repository.name()
                    + "' is corrupt: it holds no SHA-256");
        }
        return sha256;
    }

    /** The SHA-256 (hex) in a checksum file's content, or null when it is not one. */
    public static String of(String content) {
        String line = content.strip();
        int space = line.indexOf(' ');
        String hex = space < 0 ? line : line.substring(0, space);
        return hex.matches("[0-9a-f]{64}") ? hex : null;
    }
}
