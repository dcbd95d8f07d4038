package io.stowage.repository;

/**
 * The failures of one call that deletes many keys, reported as the one {@link RepositoryException} the contract asks
 * for: the first failure's message (it names the repository and the first key that failed) with how many keys are
 * not deleted. Transient only when every failure was: a key refused for good is not deleted by calling again.
 */
final class DeleteFailures {
    private final int total;
    private RepositoryException first;
    private int notDeleted;
    private boolean allTransient = true;

    /** @param total the number of keys the call was asked to delete */
    DeleteFailures(int total) {
        this.total = total;
    }

    /** Records a failure that left {@code keys} keys in place (one key, or a whole request's and those not tried). */
    void add(RepositoryException failure, int keys) {
        if (first == null) {
            first = failure;
        }
        notDeleted += keys;
        allTransient &= failure.isTransient();
    }

    /** Throws the call's failure, if it had one. */
    void throwIfAny() throws RepositoryException {
        if (first == null) {
            return;
        }
        if (total == 1) {
            throw first;
        }
        String message = first.getMessage() + " (" + notDeleted + " of " + total + " keys not deleted)";
        Throwable cause = first.getCause() == null ? first : first.getCause();
        if (first instanceof RepositoryTimeoutException) {
            throw new RepositoryTimeoutException(message, cause);
        }
        throw new RepositoryException(message, cause, allTransient);
    }
}
