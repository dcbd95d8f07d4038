package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.runtime.ExclusiveLock;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One backup of a job at a time, across processes and within this one: an {@link ExclusiveLock} on
 * {@code <local repository>/<job>/.lock}. The OS drops it when the process dies, so a killed backup never blocks the
 * next one.
 */
final class JobLock implements AutoCloseable {
    private final ExclusiveLock lock;

    private JobLock(ExclusiveLock lock) {
        this.lock = lock;
    }

    static JobLock acquire(Path repositoryRoot, String job) throws IOException {
        return new JobLock(ExclusiveLock.tryAcquire(repositoryRoot.resolve(job).resolve(".lock")).orElseThrow(() ->
                StowageException.transientFailure("a backup of job '" + job + "' is already running; HINT: wait for "
                        + "it to finish", null)));
    }

    @Override
    public void close() {
        lock.close();
    }
}
