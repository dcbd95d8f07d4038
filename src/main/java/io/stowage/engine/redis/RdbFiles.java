package io.stowage.engine.redis;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.EngineContext;
import io.stowage.restore.StoredObjects;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;

/**
 * A backup's {@code dump.rdb} laid out in a directory: the stored object's copy proven by {@link StoredObjects}
 * (its SHA-256 against the manifest, before a byte of it is decoded), then decrypted and decompressed into a temporary file
 * (0600) of the directory, fsynced and renamed to {@code dump.rdb}. The directory never holds a partial
 * {@code dump.rdb}: it holds the old one or the whole new one.
 */
final class RdbFiles {
    static final String FILE = RedisRdb.OBJECT_NAME;

    private RdbFiles() {
    }

    /** What was laid out: the file, the repository read, and the keys the RDB holds. */
    record Laid(Path file, Repository repository, RdbKeyspace keyspace) {
    }

    /** The backup's one object, which must be an RDB. */
    static Manifest.StoredObject object(Manifest manifest) {
        if (manifest.objects().size() != 1 || !manifest.objects().get(0).name().startsWith(FILE)) {
            throw new StowageException("backup " + manifest.id() + " of job '" + manifest.job() + "' is not a Redis RDB "
                    + "backup (its objects: " + manifest.objects().stream().map(Manifest.StoredObject::name).toList()
                    + ")");
        }
        return manifest.objects().get(0);
    }

    /**
     * Writes the RDB of {@code entry} to {@code directory/dump.rdb}, replacing one that is there, from the copy
     * {@link StoredObjects#fetch} proves (the configured order, or {@code --from}). {@code directory} must exist and
     * be a real directory.
     */
    static Laid layOut(CatalogEntry entry, EngineContext context, Path directory) throws IOException {
        Manifest manifest = entry.manifest();
        Manifest.StoredObject object = object(manifest);
        if (manifest.encrypted()) {
            context.encryption().requireKeyFor(manifest.encryption().passphrase(), "backup " + manifest.id());
        }
        Path temporary = directory.resolve("." + FILE + ".tmp-" + UUID.randomUUID());
        try (StoredObjects.VerifiedCopy copy = StoredObjects.fetch(context, entry, object)) {
            Repository repository = copy.source();
            RdbKeyspace keyspace = new RdbKeyspace();
            long written = 0;
            try (InputStream plain = copy.decoded(manifest, context.encryption());
                 FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW,
                         StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
                 OutputStream out = Channels.newOutputStream(channel)) {
                Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = plain.read(buffer)) != -1) {
                    Interruption.check();
                    out.write(buffer, 0, n);
                    keyspace.feed(buffer, 0, n);
                    written += n;
                }
                channel.force(true);
            } finally {
                keyspace.end();
            }
            if (keyspace.version() < 0) {
                throw new StowageException("backup " + manifest.id() + " does not decode to an RDB (" + written
                        + " bytes without the REDIS header); nothing was restored");
            }
            if (written != object.sizeBytes()) {
                throw new StowageException("backup " + manifest.id() + " decodes to " + written + " bytes, the manifest "
                        + "says " + object.sizeBytes() + "; nothing was restored");
            }
            Path file = directory.resolve(FILE);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsync(directory);
            return new Laid(file, repository, keyspace);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    static void fsync(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // some file systems cannot fsync a directory; the rename is still atomic
        }
    }

    /** Creates {@code directory} (0700) and its missing parents, or checks that it is a real directory. */
    static void createDirectory(Path directory) throws IOException {
        if (Files.isSymbolicLink(directory)) {
            throw new StowageException(directory + " is a symbolic link; HINT: name the real directory");
        }
        if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
                throw new StowageException(directory + " exists and is not a directory");
            }
            return;
        }
        Path parent = directory.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
    }
}
