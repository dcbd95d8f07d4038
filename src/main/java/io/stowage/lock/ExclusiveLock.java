package io.stowage.lock;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * An exclusive lock on a file that holds against every other holder: other processes (an OS lock, which the OS drops
 * when its holder dies, so a killed holder never blocks the next one) and other holders in this JVM. Every lock
 * Stowage takes is one of these: a job's backup, the service's local repository, a scratch server, a physical
 * restore's target directory, the alert outbox.
 *
 * <p>Why a registry of the locks this JVM holds: an OS file lock (POSIX {@code fcntl}) belongs to the process, not to
 * the channel that took it. A second {@link FileChannel#tryLock} in the same JVM throws
 * {@link OverlappingFileLockException}, and closing that second channel, like closing any descriptor of the file,
 * silently drops the lock the first holder still relies on. So every acquisition looks in the registry first and
 * never opens a file this JVM has locked, and a file is read or closed only when this JVM holds no lock on it: what a
 * holder wrote into its file ({@link #describe}) is read back from memory here ({@link #holder}).
 *
 * <p>A lock file may be deleted by its holder on release ({@link #closeAndDelete}), so that nothing is left behind.
 * Another process may then have opened the file just before it was deleted, and lock it once it is released: a lock
 * on a file that is no longer at the path. So an acquisition takes the file's identity (device and inode) before it
 * opens it and accepts its lock only if the same file is still at the path once locked; otherwise it tries again.
 */
public final class ExclusiveLock implements AutoCloseable {
    private static final Object MONITOR = new Object();
    /** A holder's description is a few lines; whatever else a file holds is not read into memory. */
    private static final int MAX_DESCRIPTION = 4096;
    /** How often a waiting acquisition tries again while another process holds the lock. */
    private static final long RETRY_MILLIS = 100;
    /** Attempts at locking the file at the path while holders that delete it on release keep replacing it. */
    private static final int MAX_ATTEMPTS = 10;
    /** The locks this JVM holds, by the locked file's identity (device and inode), so two spellings are one file. */
    private static final Map<Object, ExclusiveLock> HELD = new HashMap<>();

    private final Path file;
    private final Object key;
    private final FileChannel channel;
    private final FileLock lock;
    private final boolean created;
    private String content = "";
    private boolean released;

    private ExclusiveLock(Path file, Object key, FileChannel channel, FileLock lock, boolean created) {
        this.file = file;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
        this.created = created;
    }

    /**
     * Takes the lock on {@code file} (created 0600 when missing; its directory must exist), or returns empty when
     * another process or another holder in this JVM has it. Never waits. A link is refused, never followed.
     */
    public static Optional<ExclusiveLock> tryAcquire(Path file) throws IOException {
        synchronized (MONITOR) {
            for (int attempt = 1; ; attempt++) {
                boolean created = createPrivately(file);
                try {
                    Optional<ExclusiveLock> lock = lockFileAtPath(file, created);
                    if (lock != null) {
                        return lock;
                    }
                } catch (NoSuchFileException deletedMeanwhile) {
                    // its holder deleted it on release: there is a new one to make and lock
                }
                if (attempt == MAX_ATTEMPTS) {
                    throw new FileSystemException(file.toString(), null, "cannot be locked: it keeps being replaced");
                }
            }
        }
    }

    /**
     * Takes the lock on {@code file}, waiting up to {@code wait} for its holder (in this JVM or another process) to
     * let go; empty when it is still held then.
     */
    public static Optional<ExclusiveLock> acquire(Path file, Duration wait) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long budget;
        try {
            budget = wait.toNanos();
        } catch (ArithmeticException forever) {
            budget = Long.MAX_VALUE;
        }
        while (true) {
            Optional<ExclusiveLock> lock = tryAcquire(file);
            long left = budget - (System.nanoTime() - start);
            if (lock.isPresent() || left <= 0) {
                return lock;
            }
            synchronized (MONITOR) {
                // A holder in this JVM wakes the waiters when it lets go; another process's release is polled for.
                MONITOR.wait(Math.max(1, Math.min(RETRY_MILLIS, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        }
    }

    /** Whether this acquisition made the file: nobody had locked it since it was last deleted, if ever. */
    public boolean created() {
        return created;
    }

    /**
     * Replaces the file's content with {@code text} (who holds it), written through the locked channel: opening and
     * closing another descriptor would drop the lock.
     */
    public void describe(String text) throws IOException {
        synchronized (MONITOR) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            long position = 0;
            while (buffer.hasRemaining()) {
                position += channel.write(buffer, position);
            }
            channel.force(true);
            content = text;
        }
    }

    /**
     * What the holder of {@code file} wrote with {@link #describe}: kept in memory when the holder is in this JVM
     * (reading the file would open and close a descriptor and so drop its lock), read from the file otherwise.
     * Empty when it cannot be read.
     */
    public static String holder(Path file) {
        synchronized (MONITOR) {
            try {
                ExclusiveLock here = HELD.get(identity(file));
                if (here != null) {
                    return here.content;
                }
                try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                    return new String(in.readNBytes(MAX_DESCRIPTION), StandardCharsets.UTF_8);
                }
            } catch (IOException | RuntimeException e) {
                return "";
            }
        }
    }

    /** Releases the lock; closing again, or after a newer holder took the file, changes nothing. */
    @Override
    public void close() {
        synchronized (MONITOR) {
            if (released) {
                return;
            }
            released = true;
            HELD.remove(key, this);
            try {
                lock.release();
                channel.close();
            } catch (IOException ignored) {
                // the descriptor is gone either way, and with it the lock
            }
            MONITOR.notifyAll();
        }
    }

    /**
     * Deletes the lock file, while still holding it, then releases the lock: nothing is left behind, and the next
     * holder makes the file anew. Released even when the file cannot be deleted; does nothing once released.
     */
    public void closeAndDelete() throws IOException {
        synchronized (MONITOR) {
            try {
                if (!released && key.equals(identityOrNull(file))) {
                    Files.deleteIfExists(file);
                }
            } finally {
                close();
            }
        }
    }

    /**
     * Locks the file at {@code file}: the lock, empty when it is held, or null when the file locked turned out not
     * to be the one at the path any more (deleted by its holder meanwhile).
     */
    private static Optional<ExclusiveLock> lockFileAtPath(Path file, boolean created) throws IOException {
        Object key = identity(file);
        if (HELD.containsKey(key)) {
            return Optional.empty();
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException lockedHereOutsideTheRegistry) {
            // Closing this channel would drop that other lock: the descriptor stays open until the JVM exits.
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close(); // another process holds it; this JVM holds nothing here that closing could drop
            return Optional.empty();
        }
        if (!key.equals(identityOrNull(file))) {
            // The file opened is not (or no longer) the one at the path; this JVM holds nothing else on it.
            lock.release();
            channel.close();
            return null;
        }
        ExclusiveLock held = new ExclusiveLock(file, key, channel, lock, created);
        HELD.put(key, held);
        return Optional.of(held);
    }

    /** Makes {@code file} 0600 unless it exists; whether it was made. */
    private static boolean createPrivately(Path file) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return true;
        } catch (FileAlreadyExistsException existing) {
            return false; // an earlier holder made it; the lock, not the file, says whether it is held
        }
    }

    private static Object identity(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile()) {
            throw new FileSystemException(file.toString(), null, "not a regular file, cannot be a lock file");
        }
        Object key = attributes.fileKey();
        return key != null ? key : file.toRealPath();
    }

    private static Object identityOrNull(Path file) throws IOException {
        try {
            return identity(file);
        } catch (NoSuchFileException deleted) {
            return null;
        }
    }
}
