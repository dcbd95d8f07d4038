package io.stowage.restore;

import io.stowage.StowageException;
import io.stowage.lock.ExclusiveLock;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One scratch server per job at a time, across processes and within this one: an {@link ExclusiveLock} on
 * {@code <root>/<job>.lock}. The lock file goes away with the lock, and so does the default root in the temporary
 * directory when it is left empty: nothing stays behind in the temporary directory after a scratch restore.
 */
public final class ScratchLock implements AutoCloseable {
    /** How often the root is made again when another run removes it, empty, just as this one locks in it. */
    private static final int MAX_ATTEMPTS = 10;

    /** Makes the scratch root (again, if another run removed it) and returns it. */
    public interface Root {
        Path prepare() throws IOException;
    }

    private final Path root;
    private final boolean removeRoot;
    private final ExclusiveLock lock;

    private ScratchLock(Path root, ExclusiveLock lock) {
        this.root = root;
        // Only a root in the temporary directory (the default) is Stowage's to remove: an operator's own directory,
        // perhaps a mount point, stays.
        this.removeRoot = root.getParent().equals(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath()
                .normalize());
        this.lock = lock;
    }

    /** The scratch root the lock is in. */
    public Path root() {
        return root;
    }

    /** Takes the job's lock, or fails at once naming the scratch directory another run is using. */
    public static ScratchLock acquire(Root roots, String job) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path root = roots.prepare();
            Optional<ExclusiveLock> lock;
            try {
                lock = ExclusiveLock.tryAcquire(root.resolve(job + ".lock"));
            } catch (NoSuchFileException rootRemoved) {
                if (attempt == MAX_ATTEMPTS) {
                    throw rootRemoved;
                }
                continue;
            }
            return new ScratchLock(root, lock.orElseThrow(() -> new StowageException("another scratch restore of "
                    + "job '" + job + "' is running (" + root.resolve(job) + "); HINT: wait for it to finish")));
        }
    }

    /** Deletes the lock file and lets go, then removes the scratch root if nothing is left in it. */
    @Override
    public void close() throws IOException {
        lock.closeAndDelete();
        if (removeRoot) {
            try {
                Files.deleteIfExists(root);
            } catch (DirectoryNotEmptyException inUse) {
                // another job's scratch server is using it: the root stays
            }
        }
    }
}
