package io.stowage.repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A place that holds backups: a local directory or an S3 bucket. Keys are relative, '/'-separated paths such as
 * {@code postgres/20261121T020000Z-F/manifest.json}; each implementation maps them under its own root or prefix.
 *
 * <p>The contract every implementation keeps, checked by one shared test suite (run against each driver and against
 * each driver wrapped in a {@link RetryingRepository}):
 * <ul>
 *   <li>{@link #write}, {@link #upload} and {@link #copy} are atomic: a reader sees the whole new object or no object
 *       at all, never a part; a write that fails leaves no object behind (an earlier object under the key stays as it
 *       was);</li>
 *   <li>{@link #open} of a missing key throws {@link ObjectNotFoundException};</li>
 *   <li>{@link #list} of a prefix that holds nothing returns an empty list; it returns keys in ascending order and
 *       never returns the temporary names of writes in progress;</li>
 *   <li>{@link #delete} of a missing key succeeds, and so does {@link #delete(java.util.Collection)} of keys some or
 *       all of which are missing; deleting many keys is not atomic, and calling again finishes it;</li>
 *   <li>one exception type for storage failures: every other failure of the storage itself is a
 *       {@link RepositoryException} naming the repository and the key, with {@link RepositoryException#isTransient()}
 *       saying whether the same call may succeed when made again (a lost connection, a 5xx, throttling) or not (access
 *       denied, no such bucket, a full disk, bytes that do not match their checksum on read). The driver decides,
 *       where the failure is understood; no driver retries on its own beyond its client library's replay of one
 *       request whose bytes it holds (an S3 part in memory);</li>
 *   <li>a failure of what {@link ObjectWriter} reads (the source: a dump tool, a file) passes through {@link #write}
 *       as it was thrown: it is not a repository failure.</li>
 * </ul>
 *
 * <p>Retries are one wrapper, {@link RetryingRepository}, around every configured repository: it calls again on a
 * transient failure, with bounded exponential backoff, the methods that can be replayed ({@link #upload},
 * {@link #copy}, {@link #open}, {@link #exists}, {@link #list}, {@link #children}, {@link #delete} (of one key or of
 * many: the whole list again), {@link #check});
 * {@link #write} is never retried, because its {@link ObjectWriter} is a stream that cannot be read twice (the backup
 * route's retry runs the whole backup again instead).
 */
public interface Repository {

    /** The name operators use in configuration and that {@code list} shows: {@code local}, {@code s3}, {@code nas}. */
    String name();

    /** Where it is, for messages: a directory or an {@code s3://bucket/prefix} address. */
    String location();

    /**
     * Writes the bytes {@code writer} produces under {@code key}, atomically; returns the bytes stored.
     * Storage failures: {@link RepositoryException}; what the writer throws passes as it was thrown. Not retried by
     * {@link RetryingRepository}: the writer is a stream that may not be read twice.
     */
    long write(String key, ObjectWriter writer) throws IOException;

    /**
     * Copies a local file under {@code key}, atomically, without reading it into memory. Storage failures:
     * {@link RepositoryException}. Retried (the file is read again from its start).
     */
    void upload(String key, Path file) throws IOException;

    /**
     * Copies a local file under {@code key} in a storage class (S3's {@code STANDARD_IA}, {@code GLACIER_IR}, ...;
     * null means the default). Repositories without storage classes store it as {@link #upload(String, Path)} does.
     */
    default void upload(String key, Path file, String storageClass) throws IOException {
        upload(key, file);
    }

    /**
     * Copies the object {@code key} of {@code source} under the same key here, atomically, in a storage class (null:
     * the default). A driver that can copy within its own service does (S3's server-side CopyObject between buckets
     * reached by the same client); otherwise the source's local file is uploaded, or the source's object is read as
     * a stream. A missing source object: {@link ObjectNotFoundException}, and nothing written; storage failures of
     * either side: {@link RepositoryException}. Retried: the source is read again from its start by each call.
     */
    default void copy(String key, Repository source, String storageClass) throws IOException {
        java.util.Optional<Path> file = source.localFile(key);
        if (file.isPresent()) {
            upload(key, file.get(), storageClass);
            return;
        }
        copyStream(key, source, storageClass);
    }

    /**
     * Writes the bytes of {@code source}'s object {@code key} here, read as a stream; used by {@link #copy} when
     * nothing better applies. Repositories with storage classes override it to honour {@code storageClass}.
     */
    default void copyStream(String key, Repository source, String storageClass) throws IOException {
        write(key, out -> {
            try (InputStream in = source.open(key)) {
                in.transferTo(out);
            }
        });
    }

    /**
     * The local file that holds {@code key}, for readers that can use it in place (a restore hashes it where it lies,
     * a copy uploads it); empty for a repository whose objects are not files here.
     */
    default java.util.Optional<Path> localFile(String key) {
        return java.util.Optional.empty();
    }

    /** The repository this one delegates to (a wrapper's driver), or itself. */
    default Repository unwrap() {
        return this;
    }

    /**
     * Opens an object for reading. A missing key: {@link ObjectNotFoundException}; a failure to open it or, later,
     * to read it: {@link RepositoryException}. Opening is retried; a read that fails half-way is not (the caller
     * opens it again).
     */
    InputStream open(String key) throws IOException;

    /** Whether an object exists under {@code key}. Storage failures: {@link RepositoryException}. Retried. */
    boolean exists(String key) throws IOException;

    /**
     * Keys that start with {@code prefix} (a key prefix, not only a directory), in ascending order; empty when there
     * is none. Storage failures: {@link RepositoryException}. Retried.
     */
    List<String> list(String prefix) throws IOException;

    /**
     * The names directly under {@code directory} (empty, or a prefix ending in '/'), in ascending order: a name for
     * each object there and for each "directory" holding keys below, followed by '/' ({@code 20261121T020000Z-F/},
     * {@code wal/}). Lets the catalog find backups without listing every archived WAL file. Storage failures:
     * {@link RepositoryException}. Retried.
     */
    List<String> children(String directory) throws IOException;

    /** Removes an object; a missing one is not an error. Storage failures: {@link RepositoryException}. Retried. */
    void delete(String key) throws IOException;


    /**
     * Removes every object of {@code keys}; missing ones are not an error. Not atomic: after a failure some may be
     * gone and others not, and calling again with the same keys finishes the work (idempotent). Storage failures:
     * {@link RepositoryException} naming the repository and the first key that failed (and how many failed). Retried.
     *
     * <p>Every key is checked before anything is deleted. This default deletes one key after the other, going on
     * past a key that fails; a key that runs out of time ({@link RepositoryTimeoutException}) ends the call, since
     * the others would wait as long. A driver that can delete many objects in one request does (S3's DeleteObjects).
     */
    default void delete(java.util.Collection<String> keys) throws IOException {
        java.util.Set<String> distinct = new java.util.LinkedHashSet<>();
        for (String key : keys) {
            distinct.add(Keys.check(key));
        }
        DeleteFailures failures = new DeleteFailures(distinct.size());
        int done = 0;
        for (String key : distinct) {
            io.stowage.Interruption.check();
            try {
                delete(key);
            } catch (RepositoryTimeoutException e) {
                failures.add(e, distinct.size() - done);
                break;
            } catch (ObjectNotFoundException e) {
                // already gone
            } catch (RepositoryException e) {
                failures.add(e, 1);
            }
            done++;
        }
        failures.throwIfAny();
    }

    /**
     * Removes what interrupted writes left under {@code prefix} (temporary objects). The caller guarantees that no
     * write under the prefix is in progress: a backup calls it for its job's prefix while holding the job's lock.
     */
    default void cleanUpInterruptedWrites(String prefix) throws IOException {
    }

    /**
     * Reaches the repository and fails with a clear message ({@link RepositoryException}) if it cannot be read and
     * written. Retried.
     */
    void check() throws IOException;

    /** Produces an object's bytes into the stream it is given. */
    @FunctionalInterface
    interface ObjectWriter {
        void writeTo(OutputStream out) throws IOException;
    }
}
