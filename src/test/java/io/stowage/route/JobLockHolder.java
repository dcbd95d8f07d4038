package io.stowage.route;

import io.stowage.StowageException;
import java.nio.file.Path;

/**
 * A second process for {@link JobLockTest}: {@code hold ROOT JOB} takes the job's lock, prints {@code held} and keeps
 * it until its stdin closes; {@code try ROOT JOB} prints {@code acquired} or {@code busy} and exits.
 */
public final class JobLockHolder {
    private JobLockHolder() {
    }

    public static void main(String[] args) throws Exception {
        JobLock lock;
        try {
            lock = JobLock.acquire(Path.of(args[1]), args[2]);
        } catch (StowageException busy) {
            System.out.println("busy: " + busy.getMessage());
            System.exit(3);
            return;
        }
        if (args[0].equals("hold")) {
            System.out.println("held");
            System.out.flush();
            System.in.transferTo(java.io.OutputStream.nullOutputStream());
        } else {
            System.out.println("acquired");
        }
        lock.close();
    }
}
