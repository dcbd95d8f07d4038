package io.stowage.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Stowage as a separate process, as an operator starts it: its own JVM, a working directory, environment
 * variables. For what in-process tests cannot do: environment-driven configuration, and being killed.
 */
public final class StowageProcess {
    private StowageProcess() {
    }

    public static ProcessBuilder builder(Path workDir, Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                // The shipped logging, as an operator gets it, not the tests' logback-test.xml on this class path.
                "-Dlogback.configurationFile=logback.xml",
                "-cp", System.getProperty("java.class.path"), "io.stowage.Stowage"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("STOWAGE_") || k.startsWith("AWS_"));
        builder.environment().putAll(env);
        return builder;
    }

    /** Runs to the end and returns what it printed. */
    public static Workspace.Result run(Path workDir, Map<String, String> env, String... args) throws IOException {
        Process process = builder(workDir, env, args).start();
        process.getOutputStream().close();
        // stderr is small; read it on a thread so neither pipe can fill up.
        StringBuilder err = new StringBuilder();
        Thread errReader = new Thread(() -> {
            try {
                err.append(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // process gone
            }
        });
        errReader.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("stowage " + String.join(" ", args) + " did not finish");
            }
            errReader.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new Workspace.Result(process.exitValue(), out, err.toString());
    }
}
