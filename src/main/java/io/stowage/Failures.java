package io.stowage;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.util.Locale;

/**
 * What to say about a failure and whether to try again: the one place that turns any exception into the line an
 * operator reads (on stderr, in Slack, in PagerDuty, in the audit log).
 */
public final class Failures {
    private Failures() {
    }

    /** The first {@link StowageException} in the cause chain, or null. */
    public static StowageException known(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StowageException s) {
                return s;
            }
        }
        return null;
    }

    /**
     * One line, secrets masked: Stowage's own message, or the root cause's; for a file system error, what went wrong
     * with which file ({@code no such file or directory: /srv/key.txt}), since the JDK's message is the path alone.
     */
    public static String describe(Throwable failure) {
        StowageException known = known(failure);
        String message;
        if (known != null) {
            message = known.getMessage();
        } else {
            Throwable root = root(failure);
            if (root instanceof FileSystemException file && file.getFile() != null) {
                String reason = fileReason(file);
                message = reason.equals(DISK_FULL) ? "disk full writing " + file.getFile()
                        : reason + ": " + file.getFile() + (file.getOtherFile() == null ? "" : " -> " + file.getOtherFile());
            } else {
                message = reason(root);
            }
        }
        return oneLine(message);
    }

    /**
     * What went wrong, without the file a file system error names: for messages that name the file already
     * ({@code cannot read age identity file /srv/key.txt: no such file or directory}).
     */
    public static String reason(Throwable failure) {
        StowageException known = known(failure);
        if (known != null) {
            return describe(known);
        }
        Throwable root = root(failure);
        if (root instanceof FileSystemException file) {
            return fileReason(file);
        }
        String message = root.getMessage();
        if (message == null || message.isBlank()) {
            return root.getClass().getName();
        }
        return message.strip().equalsIgnoreCase(NO_SPACE) ? DISK_FULL + " (" + NO_SPACE.toLowerCase(Locale.ROOT) + ")"
                : oneLine(message);
    }

    /** {@code message} on one line, secrets masked and control characters escaped. */
    private static String oneLine(String message) {
        return TerminalText.line(Secrets.mask(message.strip().replaceAll("\\s*\\R\\s*", " ")));
    }

    private static final String NO_SPACE = "No space left on device";
    private static final String DISK_FULL = "disk full";

    private static String fileReason(FileSystemException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof NotLinkException) {
            return "not a symbolic link";
        }
        String reason = e.getReason();
        if (reason == null || reason.isBlank()) {
            return "file system error (" + e.getClass().getSimpleName() + ")";
        }
        if (reason.strip().equalsIgnoreCase(NO_SPACE)) {
            return DISK_FULL;
        }
        return reason.substring(0, 1).toLowerCase(Locale.ROOT) + reason.substring(1).strip();
    }

    private static Throwable root(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** Exit status for a failure: Stowage's own, else 1. */
    public static int exitCode(Throwable failure) {
        StowageException known = known(failure);
        return known == null ? StowageException.FAILED : known.exitCode();
    }

    /**
     * Whether a retry may succeed: Stowage's own failures say so; anything unforeseen (an I/O error, a driver
     * exception) is taken as transient, since retrying a backup is harmless.
     */
    public static boolean isTransient(Throwable failure) {
        StowageException known = known(failure);
        return known == null || known.isTransient();
    }
}
