package io.stowage.runtime;

import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.lock.ExclusiveLock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * One service per local repository: {@code stowage run} holds an {@link ExclusiveLock} on
 * {@code <local repository>/.service.lock} for its lifetime, and writes its pid, host and start time into it so that
 * a second one can say who runs. The local repository identifies a configuration because it is what two services
 * would fight over: its backup directories, WAL objects, alert state and audit log.
 */
final class InstanceLock {
    static final String FILE = ".service.lock";
    private static final Pattern PID = Pattern.compile("[0-9]{1,10}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]{0,252}");
    /** How long a holder may take between taking the lock and describing itself. */
    private static final java.time.Duration DESCRIPTION_WAIT = java.time.Duration.ofSeconds(2);

    private InstanceLock() {
    }

    /** Takes the lock, or fails (exit status 1) naming the service that holds it. */
    static ExclusiveLock acquire(Path localRepository) {
        Path root = localRepository.toAbsolutePath().normalize();
        Path file = root.resolve(FILE);
        ExclusiveLock lock;
        try {
            java.nio.file.Files.createDirectories(root, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
            lock = ExclusiveLock.tryAcquire(file).orElse(null);
        } catch (IOException | RuntimeException e) {
            throw new StowageException("cannot lock local repository " + root + " for this service: " + e.getMessage()
                    + "; HINT: the service's user must be able to create and write " + file, e);
        }
        if (lock == null) {
            throw new StowageException("another stowage service (" + holder(file) + ") is running on local "
                    + "repository " + realPath(root) + "; HINT: one service runs per local repository: stop that one "
                    + "first, or give this configuration its own stowage.repository.local.path");
        }
        try {
            lock.describe("pid=" + ProcessHandle.current().pid() + "\nhost=" + AuditLog.host() + "\nstarted="
                    + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n");
        } catch (IOException e) {
            lock.close();
            throw new StowageException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return lock;
    }

    /**
     * "pid 123, started 2026-11-21T02:00:00Z, host db1" from what the holder wrote. A holder that has just taken the
     * lock may not have written yet, and the file may still name a dead predecessor: such a description is read
     * again for a moment, since naming a dead pid (perhaps reused by an unrelated process) would mislead whoever
     * acts on it.
     */
    private static String holder(Path file) {
        long deadline = System.nanoTime() + DESCRIPTION_WAIT.toNanos();
        while (true) {
            Properties written = read(ExclusiveLock.holder(file));
            if (alive(written) || System.nanoTime() > deadline) {
                return describe(written);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return describe(written);
            }
        }
    }

    private static Properties read(String content) {
        Properties written = new Properties();
        try {
            written.load(new java.io.StringReader(content));
        } catch (IOException | IllegalArgumentException unreadable) {
            written.clear();
        }
        return written;
    }

    /** Whether the description names a process that runs: on another host, it cannot be checked from here. */
    private static boolean alive(Properties written) {
        String pid = written.getProperty("pid", "");
        if (!PID.matcher(pid).matches()) {
            return false;
        }
        return !AuditLog.host().equals(written.getProperty("host"))
                || ProcessHandle.of(Long.parseLong(pid)).isPresent();
    }

    /**
     * Only a live holder is described, and only with values that look right, so that whatever else is in the file
     * never reaches the terminal.
     */
    private static String describe(Properties written) {
        if (!alive(written)) {
            return "pid unknown";
        }
        List<String> parts = new ArrayList<>();
        parts.add("pid " + written.getProperty("pid"));
        try {
            parts.add("started " + Instant.parse(written.getProperty("started", "")));
        } catch (java.time.format.DateTimeParseException unknown) {
            // said nothing usable about its start
        }
        String host = written.getProperty("host", "");
        if (HOST.matcher(host).matches()) {
            parts.add("host " + host);
        }
        return String.join(", ", parts);
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }
}
