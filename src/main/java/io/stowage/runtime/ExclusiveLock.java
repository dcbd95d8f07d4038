package io.stowage.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An exclusive lock on a file that holds against every other holder: other processes (an OS lock, which the OS drops
 * when its holder dies, so a killed holder never blocks the next one) and other holders in this JVM.
 *
 * <p>Why a registry of the locks this JVM holds: an OS file lock (POSIX {@code fcntl}) belongs to the process, not to
 * the channel that took it. A second {@link FileChannel#tryLock} in the same JVM throws
 * {@link OverlappingFileLockException}, and closing that second channel, like closing any descriptor of the file,
 * silently drops the lock the first holder still relies on. So every acquisition looks in the registry first and
 * never opens a file this JVM has locked, and a file is read or closed only when this JVM holds no lock on it.
 */
public final class ExclusiveLock implements AutoCloseable {
    private static final Object MONITOR = new Object();
    /** A holder's description is a few lines; whatever else a file holds is not read into memory. */
    private static final int MAX_DESCRIPTION = 4096;
    /** The locks this JVM holds, by the locked file's identity (device and inode), so two spellings are one file. */
    private static final Map<Object, ExclusiveLock> HELD = new HashMap<>();

    private final Object key;
    private final FileChannel channel;
    private final FileLock lock;
    private String content = "";
    private boolean released;

    private ExclusiveLock(Object key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on {@code file} (created 0600, its missing directories 0700), or returns empty when another
     * process or another holder in this JVM has it. Never waits.
     */
    public static Optional<ExclusiveLock> tryAcquire(Path file) throws IOException {
        synchronized (MONITOR) {
            Object key = identity(createPrivately(file));
            if (HELD.containsKey(key)) {
                return Optional.empty();
            }
            FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
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
            ExclusiveLock held = new ExclusiveLock(key, channel, lock);
            HELD.put(key, held);
            return Optional.of(held);
        }
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
            channel.force(false);
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
                try (java.io.InputStream in = Files.newInputStream(file)) {
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
        }
    }

    private static Path createPrivately(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException existing) {
            // an earlier holder made it; the lock, not the file, says whether it is held
        }
        return file;
    }

    private static Object identity(Path file) throws IOException {
        Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        return key != null ? key : file.toRealPath();
    }
}
