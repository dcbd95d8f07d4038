package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.lock.ExclusiveLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;

/**
 * One backup of a job at a time, across processes and within this one: an {@link ExclusiveLock} on
 * {@code <local repository>/<job>/.lock}. The OS drops it when the process dies, so a killed backup never blocks the
 * next one.
 */
public final class JobLock implements AutoCloseable {
    private final ExclusiveLock lock;

    private JobLock(ExclusiveLock lock) {
        this.lock = lock;
    }

    /** Takes the job's lock, or fails at once (a transient failure) when another backup of the job holds it. */
    static JobLock acquire(Path repositoryRoot, String job) throws IOException {
        return held(ExclusiveLock.tryAcquire(file(repositoryRoot, job)), job);
    }

    /**
     * Takes the job's lock if no backup of the job holds it; empty otherwise. For work that must not run beside a
     * backup of the job and would rather wait for its next round than hold a backup up (the catch-up of copies).
     */
    public static Optional<JobLock> tryAcquire(Path repositoryRoot, String job) throws IOException {
        return ExclusiveLock.tryAcquire(file(repositoryRoot, job)).map(JobLock::new);
    }

    /**
     * Takes the job's lock, waiting up to {@code wait} for a running backup of the job to finish; empty when it is
     * still held then. For expiry, which would rather skip a round than fail.
     */
    public static Optional<JobLock> tryAcquire(Path repositoryRoot, String job, Duration wait)
            throws IOException, InterruptedException {
        return ExclusiveLock.acquire(file(repositoryRoot, job), wait).map(JobLock::new);
    }

    /** Takes the job's lock, waiting up to {@code wait} for a running backup of the job to finish. */
    static JobLock acquire(Path repositoryRoot, String job, Duration wait) throws IOException, InterruptedException {
        return held(ExclusiveLock.acquire(file(repositoryRoot, job), wait), job);
    }

    private static Path file(Path repositoryRoot, String job) throws IOException {
        Path dir = repositoryRoot.resolve(job);
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return dir.resolve(".lock");
    }

    private static JobLock held(Optional<ExclusiveLock> lock, String job) {
        return new JobLock(lock.orElseThrow(() -> StowageException.transientFailure("a backup of job '" + job
                + "' is already running; HINT: wait for it to finish", null)));
    }

    @Override
    public void close() {
        lock.close();
    }
}
