package io.stowage.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One {@code stowage} command running as its own process ({@link StowageProcess}) in a workspace, started as a
 * shell starts a command in the foreground, its output going to files: for tests that signal or kill it midway.
 */
public final class CommandProcess {
    private final Process process;
    private final Path out;
    private final Path err;
    private final String command;

    private CommandProcess(Process process, Path out, Path err, String command) {
        this.process = process;
        this.out = out;
        this.err = err;
        this.command = command;
    }

    /** Starts {@code stowage --config <workspace>/application.properties ARGS}. */
    public static CommandProcess start(Workspace ws, String... args) throws IOException {
        ws.writeConfiguration();
        List<String> all = new ArrayList<>(List.of("--config", ws.dir().resolve("application.properties").toString()));
        all.addAll(List.of(args));
        Path out = Files.createTempFile(ws.dir(), "stdout-", ".txt");
        Path err = Files.createTempFile(ws.dir(), "stderr-", ".txt");
        ProcessBuilder builder = StowageProcess.builder(ws.dir(), Map.of(), all.toArray(String[]::new))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        // A test runner started in the background passes SIGINT on ignored, and a JVM leaves an ignored signal
        // ignored; a foreground command gets the default. env execs java, so the pid stays the command's.
        builder.command().addAll(0, List.of("env", "--default-signal=INT,TERM,HUP"));
        return new CommandProcess(builder.start(), out, err, String.join(" ", args));
    }

    public Process process() {
        return process;
    }

    /** Polls {@code condition} until it holds; fails if the command exits first or a minute passes. */
    public void await(BooleanSupplier condition, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!condition.getAsBoolean()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                throw new AssertionError("never saw " + what + " during 'stowage " + command + "': "
                        + (process.isAlive() ? "still running" : "exited " + process.exitValue()) + "\n"
                        + Files.readString(out) + Files.readString(err));
            }
            Thread.sleep(20);
        }
    }

    /** Sends a signal by name (TERM, INT, KILL), as kill(1) does. */
    public void signal(String name) throws Exception {
        Process kill = new ProcessBuilder("kill", "-s", name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -s " + name + " " + process.pid() + " failed");
        }
    }

    /** Waits up to {@code seconds} for the command to end; null if it is still running. */
    public Finished awaitExit(long seconds) throws Exception {
        long started = System.nanoTime();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            return null;
        }
        return new Finished(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8), (System.nanoTime() - started) / 1e9);
    }

    /** What it printed so far. */
    public String output() throws IOException {
        return Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8);
    }

    /** Kills it and every process it started, if still running. */
    public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** How the command ended. */
    public record Finished(int status, String out, String err, double seconds) {
        public List<String> errLines() {
            return err.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + status + " after " + String.format(java.util.Locale.ROOT, "%.1f", seconds)
                    + " s\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }
}
