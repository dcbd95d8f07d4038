package io.stowage.engine.postgresql;

import io.stowage.Failures;
import io.stowage.FileTrees;
import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.Manifest;
import io.stowage.lock.ExclusiveLock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;

/**
 * A physical restore's target directory while the restore is under way, marked so that nobody takes it for a data
 * directory until the restore is complete, even if the restore is killed:
 * <ul>
 *   <li>{@value #MARKER} is written (and locked: an {@link ExclusiveLock}) before anything else and says what it
 *       is; it is removed last, after everything else is written and synced;</li>
 *   <li>PG_VERSION is written just before that: without it, {@code pg_ctl start} ("is not a database cluster
 *       directory") and {@code postgres} refuse the directory, so a partial one cannot be started by mistake.</li>
 * </ul>
 * A later restore into a marked directory refuses unless {@code --force}, which empties it (never following a link
 * out of it, and not while a server's postmaster.pid is there) and starts again. The lock makes two restores into
 * one directory fail rather than mix. Why not lay the data out beside the target and rename it into place: the
 * target is often a mount point of its own, and the layout would then land on another file system.
 */
final class IncompleteRestore implements AutoCloseable {
    static final String MARKER = "STOWAGE_RESTORE_INCOMPLETE";

    private final Path dir;
    private final boolean created;
    private final ExclusiveLock lock;
    private boolean complete;

    private IncompleteRestore(Path dir, boolean created, ExclusiveLock lock) {
        this.dir = dir;
        this.created = created;
        this.lock = lock;
    }

    /**
     * Fails unless a restore may go into {@code directory}: absent, empty, or (with {@code force}) holding an
     * incomplete restore. Returns the absolute path. Checked first, so that the operator hears it before the
     * backup is read, and again by {@link #begin}.
     */
    static Path check(Path directory, boolean force) throws IOException {
        Path dir = directory.toAbsolutePath().normalize();
        if (!Files.exists(dir)) {
            return dir;
        }
        if (!Files.isDirectory(dir)) {
            throw new StowageException("target " + dir + " is not a directory; HINT: restore into a new or empty "
                    + "directory");
        }
        // A link to the directory (a mount elsewhere) is the operator's choice: work in the directory it names.
        dir = dir.toRealPath();
        List<String> names;
        try (var entries = Files.list(dir)) {
            names = entries.map(p -> p.getFileName().toString()).toList();
        }
        if (names.isEmpty()) {
            return dir;
        }
        if (!names.contains(MARKER)) {
            throw new StowageException("target directory " + dir + " is not empty; HINT: restore into a new or empty "
                    + "directory" + (force ? " (--force replaces only an incomplete restore Stowage left)" : ""));
        }
        if (!force) {
            throw new StowageException("target directory " + dir + " holds an incomplete restore, interrupted or still "
                    + "running (" + MARKER + ": " + summary(dir) + "); HINT: add --force to replace it, or delete the "
                    + "directory");
        }
        if (names.contains("postmaster.pid")) {
            throw new StowageException("target directory " + dir + " holds an incomplete restore and a postmaster.pid: "
                    + "a server may be running on it; HINT: stop that server, then restore again with --force");
        }
        return dir;
    }

    /**
     * Marks {@code directory} (creating it 0700 if needed) for the restore of {@code manifest}'s backup; with
     * {@code force}, first empties what an earlier restore left there.
     */
    static IncompleteRestore begin(Path directory, boolean force, Manifest manifest) throws IOException {
        Path dir = check(directory, force);
        boolean created = false;
        if (!Files.exists(dir)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                        "rwx------")));
                created = true;
            } catch (FileAlreadyExistsException raced) {
                // made meanwhile by someone else: the marker below decides
            }
        }
        Path marker = dir.resolve(MARKER);
        Path target = dir;
        ExclusiveLock lock = ExclusiveLock.tryAcquire(marker).orElseThrow(() -> new StowageException("another "
                + "restore is writing into " + target + "; HINT: wait for it to finish"));
        boolean earlier = !lock.created();
        IncompleteRestore restore = new IncompleteRestore(dir, created, lock);
        try {
            List<Path> others;
            try (var entries = Files.list(dir)) {
                others = entries.filter(p -> !p.equals(marker)).toList();
            }
            // Checked again under the lock, as the directory may have changed since check().
            if (!earlier && !others.isEmpty()) {
                // Filled meanwhile (another restore completed there): take back the mark made for this one.
                lock.closeAndDelete();
                throw new StowageException("target directory " + dir + " is not empty; HINT: restore into a new or "
                        + "empty directory");
            }
            if (earlier && !force) {
                throw new StowageException("target directory " + dir + " holds an incomplete restore, interrupted "
                        + "moments ago; HINT: add --force to replace it, or delete the directory");
            }
            if (others.contains(dir.resolve("postmaster.pid"))) {
                throw new StowageException("target directory " + dir + " holds a postmaster.pid: a server may be "
                        + "running on it; HINT: stop that server, then restore again with --force");
            }
            empty(dir, marker);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            String text = "This directory holds an incomplete restore by Stowage: it is not a usable PostgreSQL data "
                    + "directory.\nbackup " + manifest.id() + " of job " + manifest.job() + ", restore started "
                    + Instant.now() + " by " + System.getProperty("user.name") + " on " + AuditLog.host()
                    + " (process " + ProcessHandle.current().pid() + ")\n"
                    + "PG_VERSION is written last, so PostgreSQL will not start here until the restore completes.\n"
                    + "To replace it: stowage restore ... --target-datadir " + dir + " --force, or delete the "
                    + "directory.\n";
            lock.describe(text);
            syncDirectory(dir);
            return restore;
        } catch (IOException | RuntimeException e) {
            restore.close();
            throw e;
        }
    }

    Path directory() {
        return dir;
    }

    /**
     * The restore is complete but for this: syncs everything laid out, writes PG_VERSION ({@code pgVersion}, held
     * back until now) and removes the marker, in that order, so that a crash at any point leaves either a marked
     * directory or a complete one.
     */
    void complete(String pgVersion) throws IOException {
        syncTree(dir, dir.resolve(MARKER));
        try (FileChannel version = FileChannel.open(dir.resolve(BaseBackupTar.PG_VERSION), java.util.Set.of(
                StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            version.write(ByteBuffer.wrap(pgVersion.getBytes(StandardCharsets.US_ASCII)));
            version.force(true);
        }
        syncDirectory(dir);
        lock.closeAndDelete();
        syncDirectory(dir);
        complete = true;
    }

    /**
     * The failure to report for {@code failure}: as it is when nothing was laid out yet (closing removes the mark),
     * else saying that the directory holds a marked, incomplete restore and what to do.
     */
    Exception failed(Exception failure, String backup) throws IOException {
        if (nothingLaidOut()) {
            return failure;
        }
        String what = Interruption.caused(failure) ? "restore of " + backup + " into " + dir + " interrupted by "
                + Interruption.signal() : Failures.describe(failure);
        return new Marked(what + "; the incomplete restore in " + dir + " is marked (" + MARKER + ") and "
                + "PostgreSQL will not start on it; HINT: run the restore again with --force to replace it, or delete "
                + dir, failure);
    }

    /** A restore that failed and left its directory marked; {@link #failure} is why it failed. */
    static final class Marked extends StowageException {
        private final Exception failure;

        Marked(String message, Exception failure) {
            super(message, failure);
            this.failure = failure;
        }

        Exception failure() {
            return failure;
        }
    }

    /** Unless complete: removes the mark (and the directory, if made for this restore) when nothing else is there. */
    @Override
    public void close() throws IOException {
        try {
            if (!complete && nothingLaidOut()) {
                lock.closeAndDelete();
                if (created) {
                    try {
                        Files.deleteIfExists(dir);
                    } catch (DirectoryNotEmptyException takenMeanwhile) {
                        // another restore marked it as soon as this one let go: it is that one's now
                    }
                }
            }
        } finally {
            lock.close();
        }
    }

    private boolean nothingLaidOut() throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.allMatch(p -> p.getFileName().toString().equals(MARKER));
        }
    }

    /**
     * The marker's second line: which backup, when, by whom. Read through {@link ExclusiveLock#holder}: a restore in
     * this JVM may hold it, and reading the file here would drop that restore's lock.
     */
    private static String summary(Path dir) {
        List<String> lines = ExclusiveLock.holder(dir.resolve(MARKER)).lines().toList();
        return lines.size() > 1 ? lines.get(1) : "no details";
    }

    /**
     * Deletes everything in {@code dir} but {@code keep}; links are removed, never followed, also when a directory in
     * it is swapped for a link meanwhile (the server's user owns what a --start restore left): see {@link FileTrees}.
     */
    private static void empty(Path dir, Path keep) throws IOException {
        try (var entries = Files.list(dir)) {
            for (Path entry : entries.filter(p -> !p.equals(keep)).toList()) {
                FileTrees.delete(entry);
            }
        }
    }

    /**
     * fsync of every file and directory under {@code dir} (links are not followed), but {@code lock}: synced when it
     * was written, and a descriptor of it opened and closed here would drop its lock.
     */
    private static void syncTree(Path dir, Path lock) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                if (attributes.isRegularFile() && !file.equals(lock)) {
                    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
                        c.force(true);
                    }
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                syncDirectory(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void syncDirectory(Path directory) {
        try (FileChannel c = FileChannel.open(directory, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            // some file systems cannot fsync a directory; its entries' own fsyncs still hold
        }
    }
}
