package io.stowage.restore;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.repository.Repository;
import io.stowage.engine.EngineContext;
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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Reading stored objects only after their SHA-256 is proven, for every restore and verification: the hash of a
 * stream, the comparison with the manifest (backup objects) or with a checksum file (WAL), and the choice of the copy
 * to read: the repositories holding a backup in the configured order ({@code stowage.repositories}), or only the
 * one {@code restore --from} names, the first whose copy proves sound.
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
        /**
         * The object's plain bytes, from its start: the proven copy read (a stop closes it), decrypted with
         * {@code keys} when the backup is encrypted, decompressed with its codec. The caller closes it.
         */
        public InputStream decoded(Manifest manifest, io.stowage.crypto.AgeKeys keys) throws IOException {
            InputStream stored = new java.io.BufferedInputStream(Interruption.closingOnStop(Files.newInputStream(file)),
                    1 << 20);
            try {
                if (manifest.encrypted()) {
                    stored = keys.decrypt(stored, manifest.encryption().passphrase(), "backup " + manifest.id()
                            + " of job " + manifest.job());
                }
                return io.stowage.pipeline.Codec.of(manifest.compression().codec()).decompress(stored);
            } catch (IOException | RuntimeException e) {
                stored.close();
                throw e;
            }
        }

        @Override
        public void close() {
            if (scratch != null) {
                io.stowage.FileTrees.deleteQuietly(scratch);
            }
        }
    }

    /**
     * The repositories a restore may read {@code entry} from, in the configured order: those holding a complete copy
     * (its manifest), or only the one {@link EngineContext#readFrom() --from} names. Fails, naming where the backup
     * is, when there is none.
     */
    public static List<Repository> holding(EngineContext services, CatalogEntry entry) {
        String from = services.readFrom();
        if (from != null) {
            Repository chosen = services.repositories().stream().filter(r -> r.name().equals(from)).findFirst()
                    .orElseThrow(() -> io.stowage.StowageException.usage("unknown repository '" + from + "' (--from)"));
            if (!entry.repositories().contains(chosen.name())) {
                throw new StowageException("backup " + entry.id() + " of job '" + entry.job() + "' has no complete "
                        + "copy in repository '" + from + "' (--from); it is complete in "
                        + String.join(", ", entry.repositories()) + "; HINT: leave out --from, or name one of those");
            }
            return List.of(chosen);
        }
        List<Repository> holding = services.repositories().stream()
                .filter(r -> entry.repositories().contains(r.name())).toList();
        if (holding.isEmpty()) {
            throw new StowageException("backup " + entry.id() + " is held by " + entry.repositories()
                    + ", none of which is configured here");
        }
        return holding;
    }

    /**
     * Chooses the copy of {@code object} of {@code entry} to read: the first repository of {@link #holding} whose copy
     * hashes as the manifest says (a local copy is hashed where it lies, a copy in S3 is downloaded, still
     * compressed, into a scratch directory of the home repository while hashed). A copy that cannot be read or fails
     * its hash is named in a warning and the next one tried; nothing is returned from an object that fails its hash.
     */
    public static VerifiedCopy fetch(EngineContext services, CatalogEntry entry, Manifest.StoredObject object)
            throws IOException {
        List<Repository> holding = holding(services, entry);
        List<String> failures = new ArrayList<>();
        for (Repository source : holding) {
            try {
                return fetch(services, entry, object, source);
            } catch (io.stowage.Interruption.Interrupted e) {
                throw e;
            } catch (IOException | StowageException e) {
                if (holding.size() == 1) {
                    throw e;
                }
                failures.add(e.getMessage());
                services.warnings().accept("backup " + entry.id() + " of job " + entry.job() + ": the copy in "
                        + "repository " + source.name() + " cannot be used (" + e.getMessage() + "); reading the next");
            }
        }
        throw new StowageException("backup " + entry.id() + " of job '" + entry.job() + "' has no sound copy: "
                + String.join("; ", failures));
    }

    /** As {@link #fetch(EngineContext, CatalogEntry, Manifest.StoredObject)}, from a copy chosen by the caller. */
    public static VerifiedCopy fetch(EngineContext services, CatalogEntry entry, Manifest.StoredObject object,
                              Repository source) throws IOException {
        Manifest manifest = entry.manifest();
        String key = Catalog.objectKey(manifest.job(), manifest.id(), object.name());
        java.util.Optional<Path> inPlace = source.localFile(key);
        if (inPlace.isPresent()) {
            Path file = inPlace.get();
            requireAsRecorded(hash(Interruption.closingOnStop(Files.newInputStream(file)), OutputStream.nullOutputStream()),
                    object, key, source);
            services.proved(source, key);
            return new VerifiedCopy(file, source, null);
        }
        Path scratch = createScratch(services.home().root());
        try {
            Path file = scratch.resolve(object.name());
            try (OutputStream out = Files.newOutputStream(file)) {
                requireAsRecorded(hash(source.open(key), out), object, key, source);
            }
            services.proved(source, key);
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
