package io.stowage.testing;

import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A real repository seen through a wrapper that tests extend to record or fail some calls: every method the
 * {@link Repository} interface leaves abstract goes to {@link #delegate}; the interface's default methods stay its
 * defaults (they call back through the wrapper).
 */
public abstract class ForwardingRepository implements Repository {
    protected final Repository delegate;

    protected ForwardingRepository(Repository delegate) {
        this.delegate = delegate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public String location() {
        return delegate.location();
    }

    @Override
    public long write(String key, ObjectWriter writer) throws IOException {
        return delegate.write(key, writer);
    }

    @Override
    public void upload(String key, Path file) throws IOException {
        delegate.upload(key, file);
    }

    @Override
    public InputStream open(String key) throws IOException {
        return delegate.open(key);
    }

    @Override
    public boolean exists(String key) throws IOException {
        return delegate.exists(key);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public List<String> children(String directory) throws IOException {
        return delegate.children(directory);
    }

    @Override
    public void delete(String key) throws IOException {
        delegate.delete(key);
    }

    @Override
    public void check() throws IOException {
        delegate.check();
    }
}
