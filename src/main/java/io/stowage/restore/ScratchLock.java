package io.stowage.restore;

import io.stowage.StowageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * One scratch server per job at a time, across processes: an operating-system lock on {@code <root>/<job>.lock}.
 * The lock file goes away with the lock, and so does the default root in the temporary directory when it is left
 * empty: nothing stays behind in the temporary directory after a scratch restore.
 *
 * <p>Deleting a lock file is safe only if a process that locked the file after it was deleted notices: each holder
 * writes a token of its own into the file it locked and reads it back through the path; a different token, or no
 * file, means the lock is on a deleted file, and it tries again.
 */
final class ScratchLock implements AutoCloseable {
    /** Makes the scratch root (again, if another run removed it) and returns it. */
    interface Root {
        Path prepare() throws IOException;
    }

    /**
     * Lock files this JVM holds: a second acquisition here must be refused before it opens the file, because closing
     * any channel of a locked file drops the whole process's lock on it.
     */
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Path root;
    private final boolean removeRoot;
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private ScratchLock(Path root, Path file, FileChannel channel, FileLock lock) {
        this.root = root;
        // Only a root in the temporary directory (the default) is Stowage's to remove: an operator's own directory,
        // perhaps a mount point, stays.
        this.removeRoot = root.getParent().equals(Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath()
                .normalize());
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** The scratch root the lock is in. */
    Path root() {
        return root;
    }

    /** Takes the job's lock, or fails at once naming the scratch directory another run is using. */
    static ScratchLock acquire(Root roots, String job) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Path root = roots.prepare();
            Path file = root.resolve(job + ".lock");
            if (!HELD.add(file)) {
                throw busy(job, root);
            }
            FileChannel channel;
            try {
                channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            } catch (NoSuchFileException rootRemoved) {
                HELD.remove(file);
                if (attempt == 10) {
                    throw rootRemoved;
                }
                continue;
            }
            try {
                FileLock lock = channel.tryLock();
                if (lock == null) {
                    throw busy(job, root);
                }
                if (owns(channel, file)) {
                    return new ScratchLock(root, file, channel, lock);
                }
                lock.release();
            } catch (IOException | RuntimeException e) {
                channel.close();
                HELD.remove(file);
                throw e;
            }
            channel.close();
            HELD.remove(file);
            if (attempt == 10) {
                throw new StowageException("cannot lock " + file + ": it keeps being replaced");
            }
        }
    }

    private static StowageException busy(String job, Path root) {
        return new StowageException("another scratch restore of job '" + job + "' is running (" + root.resolve(job)
                + "); HINT: wait for it to finish");
    }

    /** Whether the file this channel locked is still the one at {@code file}. */
    private static boolean owns(FileChannel channel, Path file) throws IOException {
        byte[] token = UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(token), 0);
        channel.force(false);
        try {
            return java.util.Arrays.equals(Files.readAllBytes(file), token);
        } catch (NoSuchFileException deleted) {
            return false;
        }
    }

    /** Deletes the lock file (while still holding it), lets go, and removes the scratch root if nothing is left in it. */
    @Override
    public void close() throws IOException {
        try {
            Files.deleteIfExists(file);
        } finally {
            try {
                lock.release();
            } finally {
                channel.close();
                HELD.remove(file);
            }
        }
        if (removeRoot) {
            try {
                Files.deleteIfExists(root);
            } catch (DirectoryNotEmptyException inUse) {
                // another job's scratch server is using it: the root stays
            }
        }
    }
}
