package io.stowage.pipeline;

import io.stowage.Interruption;
import io.stowage.Secrets;
import io.stowage.StowageException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A database tool run as a child process with an argument list (never a shell string). Its stdout is a stream the
 * caller reads or discards as it comes; its stderr is drained on a thread of its own and only the last lines are
 * kept, for the error message. Deliberately not camel-exec: that component holds a process's whole stdout in memory,
 * and a dump's stdout is the whole database.
 */
public final class ExternalProcess implements AutoCloseable {
    private static final int STDERR_LINES = 20;
    /** Every tool started and not yet seen to end: what {@link #stopAll} stops when Stowage exits. */
    private static final java.util.Set<ExternalProcess> RUNNING = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final String tool;
    private final Process process;
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private final Thread stderrReader;
    private final Interruption.Registration stopOnSignal;
    private volatile boolean stoppedBySignal;

    private ExternalProcess(String tool, Process process) {
        this.tool = tool;
        this.process = process;
        this.stderrReader = new Thread(this::drainStderr, tool + "-stderr");
        this.stderrReader.setDaemon(true);
        this.stderrReader.start();
        this.stopOnSignal = Interruption.onStop(this::stopForSignal);
        RUNNING.removeIf(other -> !other.process.isAlive()); // ended without awaitSuccess or close
        RUNNING.add(this);
    }

    /**
     * Stops every tool still running (SIGTERM to it and what it started; SIGKILL to what is left after a few
     * seconds) and returns once they are gone: for the end of the process. A JVM that exits leaves its children
     * running, and a service whose stop cut a backup short would leave its pg_dump waiting on a lock, then dumping
     * into a pipe nobody reads, holding a session on the server all the while.
     */
    public static void stopAll() {
        List<ExternalProcess> running = List.copyOf(RUNNING);
        for (ExternalProcess tool : running) {
            tool.process.descendants().forEach(ProcessHandle::destroy);
            tool.process.destroy();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (ExternalProcess tool : running) {
            try {
                if (!tool.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    tool.process.descendants().forEach(ProcessHandle::destroyForcibly);
                    tool.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Starts {@code command}. With {@code stdinFromCaller} false the child's stdin is /dev/null, so a tool can never
     * wait on a prompt. Once a signal has asked the command to stop, nothing new starts (but its cleanup).
     */
    public static ExternalProcess start(List<String> command, Map<String, String> environment, boolean stdinFromCaller) {
        Interruption.check();
        ProcessBuilder builder = new ProcessBuilder(command);
        ChildEnvironment.prepare(builder.environment(), environment);
        if (!stdinFromCaller) {
            builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        String tool = command.get(0).substring(command.get(0).lastIndexOf('/') + 1);
        try {
            return new ExternalProcess(tool, builder.start());
        } catch (IOException e) {
            throw new StowageException("cannot run " + command.get(0) + ": " + rootMessage(e)
                    + "; HINT: install the database's client tools or set the job's tool directory");
        }
    }

    public String tool() {
        return tool;
    }

    public InputStream stdout() {
        return process.getInputStream();
    }

    public OutputStream stdin() {
        return process.getOutputStream();
    }

    /**
     * Waits for the process to end and fails, with the tool's own last error line, if it did not exit 0.
     */
    public void awaitSuccess() {
        int status;
        try {
            status = process.waitFor();
            stderrReader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new StowageException(tool + " was interrupted");
        } finally {
            stopOnSignal.close();
            RUNNING.remove(this);
        }
        if (status != 0 && (stoppedBySignal || Interruption.signal() != null)) {
            // Stopped on purpose (or by the same Ctrl-C as Stowage): not a failure of the tool to report as one.
            throw Interruption.interrupted(tool + " was stopped", null);
        }
        if (status != 0) {
            String error = lastError();
            String message = tool + " failed (exit status " + status + "): " + error;
            throw lostConnection(stderr()) ? StowageException.transientFailure(message, null)
                    : new StowageException(message);
        }
    }

    /** Whether the tool's errors say it lost its server, which a later attempt may find again. */
    static boolean lostConnection(String stderr) {
        String text = stderr.toLowerCase(java.util.Locale.ROOT);
        if (text.contains("authentication failed") || text.contains("permission denied")) {
            return false;
        }
        return text.contains("server closed the connection") || text.contains("could not connect")
                || text.contains("connection refused") || text.contains("terminating connection")
                || text.contains("timeout") || text.contains("timed out") || text.contains("connection to server");
    }

    /** The most telling line the tool wrote to stderr: the last one that says "error" or "fatal", else the last. */
    public String lastError() {
        synchronized (stderrTail) {
            String chosen = null;
            for (String line : stderrTail) {
                String lower = line.toLowerCase(java.util.Locale.ROOT);
                if (lower.contains("error") || lower.contains("fatal")) {
                    chosen = line;
                }
            }
            if (chosen == null) {
                chosen = stderrTail.isEmpty() ? "no error output" : stderrTail.getLast();
            }
            return Secrets.mask(chosen.replaceAll("\\s+", " ").trim());
        }
    }

    public String stderr() {
        synchronized (stderrTail) {
            return Secrets.mask(String.join("\n", stderrTail));
        }
    }

    /**
     * A signal asked the command to stop: so does the tool (SIGTERM: pg_dump and pg_restore cancel their query and
     * exit), and everything it started; what does not end within seconds is killed.
     */
    private void stopForSignal() {
        stoppedBySignal = true;
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        java.util.concurrent.CompletableFuture.delayedExecutor(3, TimeUnit.SECONDS).execute(() -> {
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        });
    }

    /** Stops the process if it still runs; used when the pipeline fails before the tool has finished. */
    @Override
    public void close() {
        stopOnSignal.close();
        RUNNING.remove(this);
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private void drainStderr() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                synchronized (stderrTail) {
                    if (stderrTail.size() == STDERR_LINES) {
                        stderrTail.removeFirst();
                    }
                    stderrTail.addLast(line);
                }
            }
        } catch (IOException ignored) {
            // the process is gone; what was read is what there is
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
