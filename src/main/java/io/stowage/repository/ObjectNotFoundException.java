package io.stowage.repository;

/** The object asked for does not exist in the repository. */
public class ObjectNotFoundException extends RepositoryException {
    public ObjectNotFoundException(String repository, String key) {
        super("object '" + key + "' not found in repository '" + repository + "'");
    }
}
