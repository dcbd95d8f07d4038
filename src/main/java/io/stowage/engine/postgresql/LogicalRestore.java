package io.stowage.engine.postgresql;
import io.stowage.restore.StoredObjects;

import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.postgresql.DatabaseProperties;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PgRestore;
import io.stowage.engine.postgresql.RestoreTarget;
import io.stowage.job.Job;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * Restores a PostgreSQL logical backup into a new database. Every object is checked against the SHA-256 in the
 * manifest before anything is written to the server: a local copy is hashed where it lies, a copy in S3 is
 * downloaded (still compressed) and hashed on the way. Only then is a staging database created, the dump streamed
 * through the codec into pg_restore, and the result renamed to the target with the database's own properties
 * ({@link RestoreTarget}): a target that exists was restored completely.
 */
public final class LogicalRestore {
    private final io.stowage.engine.EngineContext services;
    private final Consumer<String> warnings;

    public LogicalRestore(io.stowage.engine.EngineContext services, Consumer<String> warnings) {
        this.services = services;
        this.warnings = warnings;
    }

    public record Result(CatalogEntry backup, String repository, String target, double seconds) {
    }

    public Result restore(Job job, String backupId, String target, boolean force) throws IOException {
        return restore(job, backupId, target, force, PgRestore.Options.DEFAULT);
    }

    /**
     * Restores into {@code target}, which is built under a staging name (see {@link RestoreTarget}) and takes its
     * name only once pg_restore and the database's own settings have succeeded; an existing target ({@code force})
     * is replaced in the same transaction. Whatever stops the restore before that (an error, an interrupt of this
     * thread) drops the staging database; a SIGKILL leaves it, named as unfinished, for the next restore to remove.
     */
    public Result restore(Job job, String backupId, String target, boolean force, PgRestore.Options options)
            throws IOException {
        checkLogical(job, "--target-database");
        PgConnection.checkDatabaseName(target, "target database");
        RestoreTarget.checkTargetName(target);
        PgConnection connection = PgConnection.of(job);
        PgConnection maintenance = maintenance(connection, target);
        refuseSystemDatabase(target, maintenance);
        CatalogEntry entry = services.catalog().find(job.name(), backupId, warnings);
        io.stowage.engine.EngineContext.requireMadeBy(job, entry);
        Manifest manifest = entry.manifest();
        String backupName = "backup " + manifest.id() + " of job " + manifest.job();
        if (manifest.encrypted()) {
            services.encryption().requireKeyFor(manifest.encryption().passphrase(), backupName);
        }
        long started = System.nanoTime();
        try (RestoreTarget into = RestoreTarget.open(maintenance, target)) {
            boolean exists = into.targetExists();
            if (exists && !force) {
                throw new StowageException("target database '" + target + "' already exists; HINT: choose another "
                        + "--target-database, or add --force to replace it");
            }
            if (exists) {
                into.requireReplaceable();
            }
            into.removeLeftovers(warnings);
            try (Archive archive = openArchive(entry)) {
                PgRestore pgRestore = new PgRestore(connection, options);
                // Open (for an encrypted backup, unlock) the stream before touching the server: a missing or wrong
                // identity fails here, with nothing created. Then read the database's own settings.
                InputStream in = archive.open();
                DatabaseProperties properties;
                try (in) {
                    try {
                        properties = pgRestore.databaseProperties(archive::open);
                    } catch (StowageException e) {
                        warnings.accept("the settings, comment and privileges of the backed-up database itself cannot "
                                + "be read from the backup, and are not restored: " + e.getMessage());
                        properties = DatabaseProperties.none();
                    }
                    into.create(options.role(), "stowage: unfinished restore of " + backupName + " into database "
                            + target + ", started " + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit
                            .SECONDS) + " by process " + ProcessHandle.current().pid() + "; not a complete database");
                    pgRestore.restoreInto(in, into.staging());
                    if (Thread.currentThread().isInterrupted()) {
                        throw new java.io.InterruptedIOException("interrupted");
                    }
                    into.commit(exists, properties.statements(target), warnings);
                } catch (IOException | RuntimeException e) {
                    String outcome = into.abandon();
                    throw new StowageException("restore of " + backupName + " into '" + target + "' failed ("
                            + outcome + "): " + io.stowage.Failures.describe(e), e);
                }
                if (properties.template()) {
                    warnings.accept("the backed-up database was a template (IS_TEMPLATE); '" + target + "' is not "
                            + "made one, so that it can be dropped or replaced; ALTER DATABASE \"" + target
                            + "\" IS_TEMPLATE true makes it one");
                }
                for (String statement : properties.unread()) {
                    warnings.accept("a statement about the backed-up database itself was not understood and not "
                            + "restored: " + statement);
                }
                return new Result(entry, archive.repository(), target, (System.nanoTime() - started) / 1e9);
            }
        }
    }

    static void checkLogical(Job job, String option) {
        if (!"postgresql".equals(job.engine()) || !"logical".equals(job.method())) {
            throw StowageException.usage("job '" + job.name() + "' is " + job.engine() + " " + job.method()
                    + ": " + option + " restores PostgreSQL logical backups");
        }
    }

    /** Databases the server itself needs: a restore that replaced one would take the cluster with it. */
    private static final java.util.Set<String> SYSTEM_DATABASES = java.util.Set.of("postgres", "template0", "template1");

    /**
     * Refuses, before anything is read or touched, a whole-database restore into the maintenance database, a template,
     * or the database the restore's own connection uses (which cannot be replaced from inside itself).
     */
    static void refuseSystemDatabase(String target, PgConnection maintenance) {
        String what = SYSTEM_DATABASES.contains(target) ? "a system database (postgres, template0 and template1 "
                + "belong to the server)" : target.equals(maintenance.database()) ? "the database this restore "
                + "connects to" : null;
        if (what != null) {
            throw StowageException.usage("target database '" + target + "' is " + what + ": a whole-database restore "
                    + "never replaces it; HINT: restore into another --target-database and take what you need from "
                    + "there, or bring back one table with --table");
        }
    }

    /** A connection for creating and dropping {@code target}: never to the database that may have to be dropped. */
    static PgConnection maintenance(PgConnection connection, String target) {
        return target.equals(connection.database()) ? connection.withDatabase("postgres") : connection;
    }

    /**
     * A logical backup's dump, verified and ready to be read: {@link #open()} gives the plain custom-format archive
     * (decrypted, decompressed) as a new stream each time, read from the verified copy. Closing it removes the
     * downloaded copy of a backup that came from S3.
     */
    public final class Archive implements AutoCloseable {
        private final CatalogEntry entry;
        private final StoredObjects.VerifiedCopy copy;

        private Archive(CatalogEntry entry, StoredObjects.VerifiedCopy copy) {
            this.entry = entry;
            this.copy = copy;
        }

        public CatalogEntry backup() {
            return entry;
        }

        /** The repository whose copy is read. */
        public String repository() {
            return copy.source().name();
        }

        /** The plain archive, from its start; the caller closes it. */
        public InputStream open() throws IOException {
            return copy.decoded(entry.manifest(), services.encryption());
        }

        @Override
        public void close() {
            copy.close();
        }
    }

    /**
     * The backup's dump, its SHA-256 checked against the manifest before anything reads it (see
     * {@link StoredObjects#fetch}); an encrypted backup also needs a key that opens it, checked first.
     */
    public Archive openArchive(CatalogEntry entry) throws IOException {
        Manifest manifest = entry.manifest();
        if (manifest.encrypted()) {
            services.encryption().requireKeyFor(manifest.encryption().passphrase(),
                    "backup " + manifest.id() + " of job " + manifest.job());
        }
        return new Archive(entry, StoredObjects.fetch(services, entry, manifest.objects().get(0)));
    }
}
