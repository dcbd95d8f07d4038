package io.stowage.repository;

import io.stowage.StowageException;

/** A repository operation failed; the message names the repository and the object. */
public class RepositoryException extends StowageException {
    private final boolean transientFailure;

    public RepositoryException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public RepositoryException(String message, Throwable cause, boolean transientFailure) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    @Override
    public boolean isTransient() {
        return transientFailure;
    }

    public RepositoryException(String message) {
        this(message, null, false);
    }
}
