package io.stowage.repository;

import io.stowage.Interruption;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A repository that calls its driver again when it fails transiently ({@link RepositoryException#isTransient()}),
 * with bounded exponential backoff: the first retry after {@code delay}, each next one after twice the last, never
 * more than {@link #MAX_DELAY}, {@code attempts} calls in all. A permanent failure (and anything that is not a
 * {@link RepositoryException}: a stop, a failing source) passes at once; when the attempts are spent, the last
 * failure is thrown. A stop (SIGTERM, SIGINT) ends the wait between two attempts. A retry is logged at WARN, naming
 * the repository, the operation and the key, at most once a minute per repository (an outage retried by every caller
 * is not a line per attempt); the others go to DEBUG and are counted in the next WARN.
 *
 * <p>{@link #write} is not retried: its {@link Repository.ObjectWriter} is a stream (a dump being taken) that
 * cannot be replayed. Every other method reads again from its start when called again: a file, another repository's
 * object, a listing. Every configured repository is wrapped in one, so drivers and routes hold no retry loop.
 */
public final class RetryingRepository implements Repository {
    private static final Logger LOG = LoggerFactory.getLogger(RetryingRepository.class);
    /** The longest wait between two attempts. */
    public static final Duration MAX_DELAY = Duration.ofSeconds(10);

    /** Waits between attempts; {@link Interruption#pause} in production. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    /** At most one retry of a repository is logged at WARN in this time; the others at DEBUG, counted in the next. */
    static final Duration WARN_EVERY = Duration.ofMinutes(1);

    private final Repository delegate;
    private volatile long lastWarned;
    private volatile long suppressed;
    private final int attempts;
    private final long delayMillis;
    private final Sleeper sleeper;

    public RetryingRepository(Repository delegate, int attempts, Duration delay) {
        this(delegate, attempts, delay, Interruption::pause);
    }

    public RetryingRepository(Repository delegate, int attempts, Duration delay, Sleeper sleeper) {
        if (delegate instanceof RetryingRepository) {
            throw new IllegalArgumentException("repository '" + delegate.name() + "' is already retried");
        }
        this.delegate = delegate;
        this.attempts = Math.max(1, attempts);
        this.delayMillis = Math.max(0, delay.toMillis());
        this.sleeper = sleeper;
    }

    /** The wait before attempt {@code attempt + 1} (the first retry follows attempt 1): bounded by MAX_DELAY. */
    long delayAfter(int attempt) {
        long delay = delayMillis;
        for (int i = 1; i < attempt && delay < MAX_DELAY.toMillis(); i++) {
            delay *= 2;
        }
        return Math.min(delay, MAX_DELAY.toMillis());
    }

    @FunctionalInterface
    private interface Call<T> {
        T call() throws IOException;
    }

    private <T> T retried(String operation, String key, Call<T> call) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.call();
            } catch (ObjectNotFoundException e) {
                throw e;
            } catch (RepositoryException e) {
                if (!e.isTransient() || attempt >= attempts) {
                    throw e;
                }
                long delay = delayAfter(attempt);
                long now = System.nanoTime();
                long last = lastWarned;
                if (last == 0 || now - last >= WARN_EVERY.toNanos()) {
                    lastWarned = now == 0 ? 1 : now;
                    long quiet = suppressed;
                    suppressed = 0;
                    LOG.warn("repository {}: {} '{}' failed ({}); attempt {} of {} in {} ms{}", delegate.name(),
                            operation, key, e.getMessage(), attempt + 1, attempts, delay,
                            quiet == 0 ? "" : " (" + quiet + " other retries in the last " + WARN_EVERY.toSeconds()
                                    + " s not logged)");
                } else {
                    suppressed++;
                    LOG.debug("repository {}: {} '{}' failed ({}); attempt {} of {} in {} ms", delegate.name(),
                            operation, key, e.getMessage(), attempt + 1, attempts, delay);
                }
                try {
                    sleeper.sleep(delay);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                Interruption.check();
            }
        }
    }

    private void retriedVoid(String operation, String key, VoidCall call) throws IOException {
        retried(operation, key, () -> {
            call.call();
            return null;
        });
    }

    @FunctionalInterface
    private interface VoidCall {
        void call() throws IOException;
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
    public Repository unwrap() {
        return delegate;
    }

    @Override
    public long write(String key, ObjectWriter writer) throws IOException {
        return delegate.write(key, writer);
    }

    @Override
    public void upload(String key, Path file) throws IOException {
        retriedVoid("upload", key, () -> delegate.upload(key, file));
    }

    @Override
    public void upload(String key, Path file, String storageClass) throws IOException {
        retriedVoid("upload", key, () -> delegate.upload(key, file, storageClass));
    }

    @Override
    public void copy(String key, Repository source, String storageClass) throws IOException {
        retriedVoid("copy", key, () -> delegate.copy(key, source, storageClass));
    }

    @Override
    public void copyStream(String key, Repository source, String storageClass) throws IOException {
        retriedVoid("copy", key, () -> delegate.copyStream(key, source, storageClass));
    }

    @Override
    public Optional<Path> localFile(String key) {
        return delegate.localFile(key);
    }

    @Override
    public InputStream open(String key) throws IOException {
        return retried("open", key, () -> delegate.open(key));
    }

    @Override
    public boolean exists(String key) throws IOException {
        return retried("look up", key, () -> delegate.exists(key));
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return retried("list", prefix, () -> delegate.list(prefix));
    }

    @Override
    public List<String> children(String directory) throws IOException {
        return retried("list", directory, () -> delegate.children(directory));
    }

    @Override
    public void delete(String key) throws IOException {
        retriedVoid("delete", key, () -> delegate.delete(key));
    }

    /** Calls again with the whole list: keys already deleted are missing now, which is not an error. */
    @Override
    public void delete(java.util.Collection<String> keys) throws IOException {
        List<String> all = List.copyOf(keys);
        if (all.isEmpty()) {
            return;
        }
        String what = all.size() == 1 ? all.get(0) : all.get(0) + " (and " + (all.size() - 1) + " more)";
        retriedVoid("delete", what, () -> delegate.delete(all));
    }

    @Override
    public void cleanUpInterruptedWrites(String prefix) throws IOException {
        retriedVoid("clean up", prefix, () -> delegate.cleanUpInterruptedWrites(prefix));
    }

    @Override
    public void check() throws IOException {
        retriedVoid("check", "/", delegate::check);
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
