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
 * <p>The contract every implementation keeps, checked by one shared test suite:
 * <ul>
 *   <li>{@link #write} and {@link #upload} are atomic: a reader sees the whole new object or no object at all, never a
 *       part; a write that fails leaves no object behind (an earlier object under the key stays as it was);</li>
 *   <li>{@link #open} of a missing key throws {@link ObjectNotFoundException};</li>
 *   <li>{@link #list} of a prefix that holds nothing returns an empty list; it returns keys in ascending order and
 *       never returns the temporary names of writes in progress;</li>
 *   <li>{@link #delete} of a missing key succeeds;</li>
 *   <li>every other failure is a {@link RepositoryException} naming the repository and the key.</li>
 * </ul>
 */
public interface Repository {

    /** The name operators use in configuration and that {@code list} shows: {@code local}, {@code s3}. */
    String name();

    /** Where it is, for messages: a directory or an {@code s3://bucket/prefix} address. */
    String location();

    /** Writes the bytes {@code writer} produces under {@code key}, atomically; returns the bytes stored. */
    long write(String key, ObjectWriter writer) throws IOException;

    /** Copies a local file under {@code key}, atomically, without reading it into memory. */
    void upload(String key, Path file) throws IOException;

    /**
     * Copies a local file under {@code key} in a storage class (S3's {@code STANDARD_IA}, {@code GLACIER_IR}, ...;
     * null means the default). Repositories without storage classes store it as {@link #upload(String, Path)} does.
     */
    default void upload(String key, Path file, String storageClass) throws IOException {
        upload(key, file);
    }

    /** Opens an object for reading. */
    InputStream open(String key) throws IOException;

    /** Whether an object exists under {@code key}. */
    boolean exists(String key) throws IOException;

    /** Keys that start with {@code prefix} (a key prefix, not only a directory), in ascending order. */
    List<String> list(String prefix) throws IOException;

    /**
     * The names directly under {@code directory} (empty, or a prefix ending in '/'), in ascending order: a name for
     * each object there and for each "directory" holding keys below, followed by '/' ({@code 20261121T020000Z-F/},
     * {@code wal/}). Lets the catalog find backups without listing every archived WAL file.
     */
    List<String> children(String directory) throws IOException;

    /** Removes an object; a missing one is not an error. */
    void delete(String key) throws IOException;

    /**
     * Removes what interrupted writes left under {@code prefix} (temporary objects). The caller guarantees that no
     * write under the prefix is in progress: a backup calls it for its job's prefix while holding the job's lock.
     */
    default void cleanUpInterruptedWrites(String prefix) throws IOException {
    }

    /** Reaches the repository and fails with a clear message if it cannot be read and written. */
    void check() throws IOException;

    /** Produces an object's bytes into the stream it is given. */
    @FunctionalInterface
    interface ObjectWriter {
        void writeTo(OutputStream out) throws IOException;
    }
}
