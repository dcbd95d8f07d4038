package io.stowage.restore;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Reading stored objects only after their SHA-256 is proven, for every restore and verification: the hash of a
 * stream, the comparison with the manifest (backup objects) or with a checksum file (WAL), and the verified copy of a
 * backup object to read from (local first, then S3).
 */
public final class StoredObjects {
    private StoredObjects() {
    }

    /** A stream's SHA-256 (hex) and length. */
    public record Hashed(String sha256, long bytes) {
    }

    /**
     * Reads {@code in} to its end (and closes it), copying it to {@code copy}, and returns its SHA-256 and length.
     * A stop (SIGTERM, SIGINT) ends it between two reads.
     */
    public static Hashed hash(InputStream in, OutputStream copy) throws IOException {
        MessageDigest sha = sha256();
        long size = 0;
        try (InputStream source = in) {
            OutputStream out = new DigestOutputStream(copy, sha);
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = source.read(buffer)) != -1) {
                Interruption.check();
                out.write(buffer, 0, n);
                size += n;
            }
        } catch (IOException e) {
            Interruption.check(); // the stop closed the file being read
            throw e;
        }
        return new Hashed(HexFormat.of().formatHex(sha.digest()), size);
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fails, naming the object, unless {@code hashed} is what the manifest recorded for it. */
    public static void requireAsRecorded(Hashed hashed, Manifest.StoredObject object, String key, Repository repository) {
        if (hashed.bytes() != object.storedBytes() || !hashed.sha256().equals(object.sha256())) {
            throw new StowageException("object '" + key + "' in repository '" + repository.name() + "' is corrupt: "
                    + "SHA-256 " + hashed.sha256() + " (" + hashed.bytes() + " bytes), the manifest says "
                    + object.sha256() + " (" + object.storedBytes() + " bytes); nothing was restored");
        }
    }

    /** Fails, naming the WAL object, unless {@code actual} is what its checksum file says (null: it has none). */
    public static void requireAsChecksummed(String actual, String expected, String key, Repository repository) {
        if (expected != null && !expected.equals(actual)) {
            throw new StowageException("WAL object '" + key + "' in repository '" + repository.name()
                    + "' is corrupt: SHA-256 " + actual + ", its checksum file says " + expected);
        }
    }

    /** A verified backup object to read: where it lies locally, or a copy downloaded from S3 (removed on close). */
    public record VerifiedCopy(Path file, Repository source, Path scratch) implements AutoCloseable {
        @Override
        public void close() {
            if (scratch != null) {
                io.stowage.FileTrees.deleteQuietly(scratch);
            }
        }
    }

    /**
     * Chooses the copy of {@code object} of {@code entry} to read (the first repository, in order of preference, that
     * holds the backup) and checks its SHA-256 against the manifest: a local copy is hashed where it lies, a copy in
     * S3 is downloaded (still compressed) into a scratch directory of the local repository while hashed. Nothing is
     * returned from an object that fails its hash.
     */
    public static VerifiedCopy fetch(io.stowage.engine.EngineContext services, CatalogEntry entry, Manifest.StoredObject object)
            throws IOException {
        Repository source = services.repositories().stream()
                .filter(r -> entry.repositories().contains(r.name())).findFirst()
                .orElseThrow(() -> new StowageException("backup " + entry.id() + " is held by "
                        + entry.repositories() + ", none of which is configured here"));
        return fetch(services, entry, object, source);
    }

    /** As {@link #fetch(io.stowage.engine.EngineContext, CatalogEntry, Manifest.StoredObject)}, from a copy chosen by the caller. */
    public static VerifiedCopy fetch(io.stowage.engine.EngineContext services, CatalogEntry entry, Manifest.StoredObject object,
                              Repository source) throws IOException {
        Manifest manifest = entry.manifest();
        String key = Catalog.objectKey(manifest.job(), manifest.id(), object.name());
        if (source instanceof LocalRepository local) {
            Path file = local.file(key);
            requireAsRecorded(hash(Interruption.closingOnStop(Files.newInputStream(file)), OutputStream.nullOutputStream()),
                    object, key, source);
            return new VerifiedCopy(file, source, null);
        }
        Path scratch = createScratch(services.home().root());
        try {
            Path file = scratch.resolve(object.name());
            try (OutputStream out = Files.newOutputStream(file)) {
                requireAsRecorded(hash(source.open(key), out), object, key, source);
            }
            return new VerifiedCopy(file, source, scratch);
        } catch (IOException | RuntimeException e) {
            io.stowage.FileTrees.deleteQuietly(scratch);
            throw e;
        }
    }

    public static Path createScratch(Path root) throws IOException {
        Files.createDirectories(root);
        // Scratch directories of restores that were killed: a day old is surely no restore in progress.
        try (var old = Files.list(root)) {
            Instant dayAgo = Instant.now().minus(Duration.ofDays(1));
            for (Path leftover : old.filter(p -> p.getFileName().toString().startsWith(".restore-")).toList()) {
                // The link's own time, and the link itself: never what a planted link points to.
                if (Files.getLastModifiedTime(leftover, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant()
                        .isBefore(dayAgo)) {
                    io.stowage.FileTrees.deleteQuietly(leftover);
                }
            }
        }
        return Files.createDirectory(root.resolve(".restore-" + UUID.randomUUID()),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
}
