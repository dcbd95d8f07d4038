package io.stowage;

/**
 * A failure the operator is told about in one line. The message is lowercase, names the object that failed and,
 * where the operator can act, ends with a hint. {@link #exitCode()} follows the command-line contract:
 * 1 the operation failed, 2 bad usage or configuration.
 */
public class StowageException extends RuntimeException {
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    private final int exitCode;
    private final boolean transientFailure;

    public StowageException(String message) {
        this(message, FAILED, null, false);
    }

    public StowageException(String message, Throwable cause) {
        this(message, FAILED, cause, false);
    }

    protected StowageException(String message, int exitCode, Throwable cause) {
        this(message, exitCode, cause, false);
    }

    private StowageException(String message, int exitCode, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.exitCode = exitCode;
        this.transientFailure = transientFailure;
    }

    public int exitCode() {
        return exitCode;
    }

    /**
     * Whether trying again later may succeed (a server restarting, a network cut), as opposed to a failure that
     * stays until someone acts (a wrong password, a missing tool, bad configuration). Scheduled backups retry the
     * first kind only.
     */
    public boolean isTransient() {
        return transientFailure;
    }

    /** Bad usage or configuration: exit status 2. */
    public static StowageException usage(String message) {
        return new StowageException(message, USAGE, null, false);
    }

    /** Bad usage or configuration, keeping what caused it for --verbose. */
    public static StowageException usage(String message, Throwable cause) {
        return new StowageException(message, USAGE, cause, false);
    }

    /** A failure that may pass: the service retries it with backoff. */
    public static StowageException transientFailure(String message, Throwable cause) {
        return new StowageException(message, FAILED, cause, true);
    }
}
