package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.runtime.ExclusiveLock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A second process for the lock tests: {@code hold ROOT JOB} takes the job's lock, prints {@code held} and keeps it
 * until its stdin closes; {@code try ROOT JOB} prints {@code acquired} or {@code busy} and exits; {@code hold-file
 * FILE} holds an {@link ExclusiveLock} on any file, writing nothing into it, until its stdin closes.
 */
public final class JobLockHolder {
    private JobLockHolder() {
    }

    /** Starts this class in its own JVM, on the test class path. */
    public static Process start(String... args) throws java.io.IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                JobLockHolder.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** The first line a holder printed ({@code held}, {@code acquired} or {@code busy: ...}), waited for a minute. */
    public static String firstLine(Process process) throws Exception {
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return String.valueOf(out.readLine());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    public static void main(String[] args) throws Exception {
        AutoCloseable lock;
        try {
            if (args[0].equals("hold-file")) {
                Optional<ExclusiveLock> held = ExclusiveLock.tryAcquire(Path.of(args[1]));
                if (held.isEmpty()) {
                    throw new StowageException("held elsewhere");
                }
                lock = held.get();
            } else {
                lock = JobLock.acquire(Path.of(args[1]), args[2]);
            }
        } catch (StowageException busy) {
            System.out.println("busy: " + busy.getMessage());
            System.exit(3);
            return;
        }
        if (args[0].startsWith("hold")) {
            System.out.println("held");
            System.out.flush();
            System.in.transferTo(java.io.OutputStream.nullOutputStream());
        } else {
            System.out.println("acquired");
        }
        lock.close();
    }
}
