package io.stowage.repository;

/**
 * A repository did not answer within a bound (a connect, read or call timeout). Not transient: the call's own
 * retries already ran within its bound, and calling again would only wait as long again.
 */
public final class RepositoryTimeoutException extends RepositoryException {
    public RepositoryTimeoutException(String message, Throwable cause) {
        super(message, cause, false);
    }
}
