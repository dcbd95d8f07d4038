package io.stowage.repository;

import io.stowage.StowageException;

/** A repository operation failed; the message names the repository and the object. */
public class RepositoryException extends StowageException {
    public RepositoryException(String message, Throwable cause) {
        super(message, cause);
    }

    public RepositoryException(String message) {
        super(message);
    }
}
