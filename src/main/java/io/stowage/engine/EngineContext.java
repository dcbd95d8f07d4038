package io.stowage.engine;

import io.stowage.catalog.Catalog;
import io.stowage.crypto.AgeKeys;
import io.stowage.repository.Repository;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What an engine may use of the common machinery while it backs up, restores, verifies or checks: the repositories
 * (in restore order), the catalog, the encryption keys, where scratch targets go, and where warnings go.
 */
public interface EngineContext {
    /** Every configured repository, in the configured (restore preference) order. */
    List<Repository> repositories();

    /** The repositories of one job, in configured order (its {@code repositories} parameter, or all). */
    List<Repository> repositories(io.stowage.job.Job job);

    /** The repositories of a job's log archive, in configured order: the first is written, the others copied to. */
    List<Repository> logRepositories(io.stowage.job.Job job);

    /** The local repository that holds this host's own state (locks, the audit log) and scratch downloads. */
    io.stowage.repository.LocalRepository home();

    Catalog catalog();

    AgeKeys encryption();

    /** Where scratch restores lay out data directories and run throwaway servers. */
    Path scratchRoot();

    /**
     * The parameters of the job's log-archive route (its spool, its receiver, ...), as the operator set them; empty
     * when the job has none.
     */
    java.util.Map<String, String> logArchiveParameters(io.stowage.job.Job job);

    /**
     * Stores a spooled file of {@code job} compressed (and encrypted when configured) as
     * {@code <prefix><name><codec>[.age]} in the first of its {@link #logRepositories} and then in the others, each
     * followed by its {@code .sha256} file when {@code checksum}; returns the bytes stored.
     */
    long storeFile(io.stowage.job.Job job, String prefix, java.io.File file, io.stowage.pipeline.Codec codec,
                   int level, boolean checksum) throws java.io.IOException;

    /** The repository a restore must read from ({@code restore --from}), or null: the first holding a sound copy. */
    default String readFrom() {
        return null;
    }

    /**
     * The backup {@code backup} (an id, or {@code latest}) of {@code job}, refused unless the job's engine and method
     * made it: a manifest of another engine under the job's name (the job's engine changed, or a crafted one) is never
     * handed to this engine to restore.
     */
    default io.stowage.catalog.CatalogEntry backup(io.stowage.job.Job job, String backup) {
        io.stowage.catalog.CatalogEntry entry = catalog().find(job.name(), backup, warnings());
        requireMadeBy(job, entry);
        return entry;
    }

    /** Refuses {@code entry} unless {@code job}'s engine and method made it. */
    static void requireMadeBy(io.stowage.job.Job job, io.stowage.catalog.CatalogEntry entry) {
        io.stowage.catalog.Manifest m = entry.manifest();
        if (!m.engine().equals(job.engine()) || !m.method().equals(job.method())) {
            throw new io.stowage.StowageException("backup " + entry.id() + " of job '" + job.name() + "' was made by "
                    + m.engine() + " " + m.method() + " and the job is " + job.engine() + " " + job.method()
                    + "; HINT: restore it with a job of that engine and method (a job of another name reads another "
                    + "directory: copy the job's block and keep its name)");
        }
    }

    /** Records that the object {@code key} in {@code repository} was hashed and matched its manifest in this task. */
    default void proved(Repository repository, String key) {
    }

    /** Whether {@link #proved} recorded that object in this task (a verification hashes it again otherwise). */
    default boolean isProved(Repository repository, String key) {
        return false;
    }

    /** Where the operator's warnings go (a command prints them, the service logs them). */
    Consumer<String> warnings();
}
