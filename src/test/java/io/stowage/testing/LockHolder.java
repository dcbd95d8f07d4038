package io.stowage.testing;

import io.stowage.lock.ExclusiveLock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Another process for the lock tests, a real second JVM: {@code hold FILE} takes the lock on FILE, prints
 * {@code held} and keeps it until its stdin closes; {@code try FILE} prints {@code acquired} (and lets go) or
 * {@code busy} and exits (making FILE's directory if need be). Its lock is the OS lock every Stowage lock is built on, so whether it gets one tells whether
 * any Stowage process holds that file.
 */
public final class LockHolder implements AutoCloseable {
    private final Process process;

    private LockHolder(Process process) {
        this.process = process;
    }

    /** A second JVM holding the lock on {@code file} (or failing the test when it cannot), until closed. */
    public static LockHolder hold(Path file) throws Exception {
        LockHolder holder = new LockHolder(start("hold", file));
        String line = holder.firstLine();
        if (!line.equals("held")) {
            holder.close();
            throw new IllegalStateException("the second process could not lock " + file + ": " + line);
        }
        return holder;
    }

    /** Whether a second JVM can take the lock on {@code file} now: {@code acquired} or {@code busy}. */
    public static String attempt(Path file) throws Exception {
        try (LockHolder attempt = new LockHolder(start("try", file))) {
            String line = attempt.firstLine();
            if (!attempt.process.waitFor(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the second process did not end");
            }
            return line;
        }
    }

    /** Lets go: the holder's stdin closes, it releases the lock and exits. */
    @Override
    public void close() throws Exception {
        try {
            process.getOutputStream().close();
        } catch (IOException gone) {
            // it has exited already
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Process start(String mode, Path file) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty(
                "java.class.path"), LockHolder.class.getName(), mode, file.toString()));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private String firstLine() throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        return CompletableFuture.supplyAsync(() -> {
            try {
                return String.valueOf(out.readLine());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[1]);
        java.nio.file.Files.createDirectories(file.getParent());
        Optional<ExclusiveLock> lock = ExclusiveLock.tryAcquire(file);
        if (lock.isEmpty()) {
            System.out.println("busy");
            return;
        }
        try (ExclusiveLock held = lock.get()) {
            if (args[0].equals("hold")) {
                System.out.println("held");
                System.out.flush();
                System.in.transferTo(OutputStream.nullOutputStream());
            } else {
                System.out.println("acquired");
            }
        }
    }
}
