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

    public StowageException(String message) {
        this(message, FAILED, null);
    }

    public StowageException(String message, Throwable cause) {
        this(message, FAILED, cause);
    }

    protected StowageException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }

    /** Bad usage or configuration: exit status 2. */
    public static StowageException usage(String message) {
        return new StowageException(message, USAGE, null);
    }
}
