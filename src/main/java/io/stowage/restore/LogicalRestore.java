package io.stowage.restore;

import io.stowage.StowageException;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PgRestore;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.job.Job;
import io.stowage.pipeline.Codec;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageServices;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.commons.io.FileUtils;

/**
 * Restores a PostgreSQL logical backup into a new database. Every object is checked against the SHA-256 in the
 * manifest before anything is written to the server: a local copy is hashed where it lies, a copy in S3 is
 * downloaded (still compressed) and hashed on the way. Only then is the target created and the dump streamed
 * through the codec into pg_restore.
 */
public final class LogicalRestore {
    private final StowageServices services;
    private final Consumer<String> warnings;

    public LogicalRestore(StowageServices services, Consumer<String> warnings) {
        this.services = services;
        this.warnings = warnings;
    }

    public record Result(CatalogEntry backup, String repository, String target, double seconds) {
    }

    public Result restore(Job job, String backupId, String target, boolean force) throws IOException {
        checkLogical(job, "--target-database");
        PgConnection.checkDatabaseName(target, "target database");
        CatalogEntry entry = services.catalog().find(job.name(), backupId, warnings);
        Manifest manifest = entry.manifest();
        String backupName = "backup " + manifest.id() + " of job " + manifest.job();
        if (manifest.encrypted()) {
            services.encryption().requireKeyFor(manifest.encryption().passphrase(), backupName);
        }
        PgConnection connection = PgConnection.of(job);
        PostgresServer server = new PostgresServer(maintenance(connection, target));
        boolean exists = server.databaseExists(target);
        if (exists && !force) {
            throw new StowageException("target database '" + target + "' already exists; HINT: choose another "
                    + "--target-database, or add --force to replace it");
        }
        long started = System.nanoTime();
        try (Archive archive = openArchive(entry)) {
            // Open (and, for an encrypted backup, unlock) the stream before touching the server: a missing or wrong
            // identity fails here, with nothing created.
            InputStream in = archive.open();
            if (exists) {
                server.dropDatabase(target);
            }
            server.createDatabase(target);
            try (in) {
                new PgRestore(connection).restore(in, target);
            } catch (IOException | RuntimeException e) {
                String dropped;
                try {
                    server.dropDatabase(target);
                    dropped = "; the partial database '" + target + "' was dropped";
                } catch (RuntimeException dropFailure) {
                    dropped = "; the partial database '" + target + "' could not be dropped: " + dropFailure.getMessage();
                }
                throw new StowageException("restore of backup " + manifest.id() + " into '" + target + "' failed: "
                        + e.getMessage() + dropped, e);
            }
            return new Result(entry, archive.repository(), target, (System.nanoTime() - started) / 1e9);
        }
    }

    static void checkLogical(Job job, String option) {
        if (!"postgresql".equals(job.engine()) || !"logical".equals(job.method())) {
            throw StowageException.usage("job '" + job.name() + "' is " + job.engine() + " " + job.method()
                    + ": " + option + " restores PostgreSQL logical backups");
        }
    }

    /** A connection for creating and dropping {@code target}: never to the database that may have to be dropped. */
    static PgConnection maintenance(PgConnection connection, String target) {
        return target.equals(connection.database())
                ? new PgConnection(connection.host(), connection.port(), connection.user(), connection.password(),
                        "postgres", connection.binDir())
                : connection;
    }

    /**
     * A logical backup's dump, verified and ready to be read: {@link #open()} gives the plain custom-format archive
     * (decrypted, decompressed) as a new stream each time, read from the verified copy. Closing it removes the
     * downloaded copy of a backup that came from S3.
     */
    public final class Archive implements AutoCloseable {
        private final CatalogEntry entry;
        private final String repository;
        private final Path file;
        private final Path scratch;

        private Archive(CatalogEntry entry, String repository, Path file, Path scratch) {
            this.entry = entry;
            this.repository = repository;
            this.file = file;
            this.scratch = scratch;
        }

        public CatalogEntry backup() {
            return entry;
        }

        /** The repository whose copy is read. */
        public String repository() {
            return repository;
        }

        /** The plain archive, from its start; the caller closes it. */
        public InputStream open() throws IOException {
            Manifest manifest = entry.manifest();
            InputStream stored = new BufferedInputStream(Files.newInputStream(file), 1 << 20);
            try {
                if (manifest.encrypted()) {
                    stored = services.encryption().decrypt(stored, manifest.encryption().passphrase(),
                            "backup " + manifest.id() + " of job " + manifest.job());
                }
                return Codec.of(manifest.compression().codec()).decompress(stored);
            } catch (IOException | RuntimeException e) {
                stored.close();
                throw e;
            }
        }

        @Override
        public void close() {
            if (scratch != null) {
                FileUtils.deleteQuietly(scratch.toFile());
            }
        }
    }

    /**
     * Chooses the copy of {@code entry} to read (local first, then S3) and checks its SHA-256 against the manifest: a
     * local copy is hashed where it lies, a copy in S3 is downloaded (still compressed) into a scratch directory of
     * the local repository while hashed. Nothing is returned from an object that fails its hash.
     */
    public Archive openArchive(CatalogEntry entry) throws IOException {
        Manifest manifest = entry.manifest();
        if (manifest.encrypted()) {
            services.encryption().requireKeyFor(manifest.encryption().passphrase(),
                    "backup " + manifest.id() + " of job " + manifest.job());
        }
        Repository source = chooseSource(entry);
        Manifest.StoredObject dump = manifest.objects().get(0);
        String key = Catalog.objectKey(manifest.job(), manifest.id(), dump.name());
        Path scratch = null;
        try {
            Path file;
            if (source instanceof LocalRepository local) {
                file = local.file(key);
                verify(Files.newInputStream(file), OutputStream.nullOutputStream(), dump, key, source);
            } else {
                scratch = createScratch();
                file = scratch.resolve(dump.name());
                try (OutputStream out = Files.newOutputStream(file)) {
                    verify(source.open(key), out, dump, key, source);
                }
            }
            return new Archive(entry, source.name(), file, scratch);
        } catch (IOException | RuntimeException e) {
            if (scratch != null) {
                FileUtils.deleteQuietly(scratch.toFile());
            }
            throw e;
        }
    }

    /** The first repository, in order of preference, that holds a complete copy. */
    private Repository chooseSource(CatalogEntry entry) {
        for (Repository repository : services.repositories().all()) {
            if (entry.repositories().contains(repository.name())) {
                return repository;
            }
        }
        throw new StowageException("backup " + entry.id() + " is held by " + entry.repositories()
                + ", none of which is configured here");
    }

    private Path createScratch() throws IOException {
        Path root = services.repositories().local().root();
        Files.createDirectories(root);
        // Scratch directories of restores that were killed: a day old is surely no restore in progress.
        try (var old = Files.list(root)) {
            java.time.Instant dayAgo = java.time.Instant.now().minus(java.time.Duration.ofDays(1));
            for (Path leftover : old.filter(p -> p.getFileName().toString().startsWith(".restore-")).toList()) {
                if (Files.getLastModifiedTime(leftover).toInstant().isBefore(dayAgo)) {
                    FileUtils.deleteQuietly(leftover.toFile());
                }
            }
        }
        return Files.createDirectory(root.resolve(".restore-" + UUID.randomUUID()),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Copies {@code in} to {@code out} while hashing; fails, naming the object, on any difference. */
    private static void verify(InputStream in, OutputStream out, Manifest.StoredObject object, String key,
                               Repository repository) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long size;
        try (InputStream source = in; DigestOutputStream digest = new DigestOutputStream(out, sha)) {
            size = source.transferTo(digest);
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (size != object.storedBytes() || !actual.equals(object.sha256())) {
            throw new StowageException("object '" + key + "' in repository '" + repository.name() + "' is corrupt: "
                    + "SHA-256 " + actual + " (" + size + " bytes), the manifest says " + object.sha256() + " ("
                    + object.storedBytes() + " bytes); nothing was restored");
        }
    }
}
