package io.stowage;

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

    /** One line, secrets masked: Stowage's own message, or the root cause's. */
    public static String describe(Throwable failure) {
        StowageException known = known(failure);
        String message;
        if (known != null) {
            message = known.getMessage();
        } else {
            Throwable root = failure;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            message = root.getMessage() == null ? root.getClass().getName() : root.getMessage();
        }
        return Secrets.mask(message.strip().replaceAll("\\s*\\R\\s*", " "));
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
