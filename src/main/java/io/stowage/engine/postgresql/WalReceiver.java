package io.stowage.engine.postgresql;

import io.stowage.Secrets;
import io.stowage.StowageException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams a cluster's WAL into a job's spool with {@code pg_receivewal}, as the alternative to {@code archive_command}:
 * WAL reaches the spool as the server writes it (the segment in progress is {@code <segment>.partial}, fsynced as it
 * grows with {@code --synchronous}), and each finished segment is renamed to its own name, where the job's WAL route
 * takes it. A physical replication slot ({@code stowage_<job>} unless the route names another) makes the server keep
 * WAL that has not been received, so a receiver that was down or disconnected resumes where it stopped and nothing is
 * lost.
 *
 * <p>The service supervises the process: when it exits (the server restarted, the network failed) it is started again
 * after a delay that doubles up to a minute, and {@link #close()} stops it with SIGTERM, on which pg_receivewal
 * flushes what it has and exits.
 */
public final class WalReceiver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalReceiver.class);
    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");
    private static final long MAX_DELAY_MILLIS = 60_000;

    private final String job;
    private final PgConnection connection;
    private final Path spool;
    private final String slot;
    private final Thread supervisor;
    private volatile boolean stopping;
    private volatile Process process;
    private volatile int restarts;

    public WalReceiver(String job, PgConnection connection, Path spool, String slot) {
        this.job = job;
        this.connection = connection;
        this.spool = spool;
        this.slot = slot == null || slot.isBlank() ? defaultSlot(job) : slot.trim();
        if (!SLOT.matcher(this.slot).matches()) {
            throw StowageException.usage("WAL receiver slot '" + this.slot + "' of job '" + job + "' is not a valid "
                    + "replication slot name; HINT: use lower-case letters, digits and underscores (at most 63)");
        }
        this.supervisor = new Thread(this::supervise, "wal-receiver-" + job);
        this.supervisor.setDaemon(true);
    }

    /** The slot a job's receiver uses unless its route names one: {@code stowage_<job>}. */
    public static String defaultSlot(String job) {
        return "stowage_" + job.replace('-', '_');
    }

    public String slot() {
        return slot;
    }

    /** How many times the process was started again after it exited. */
    public int restarts() {
        return restarts;
    }

    /** Whether pg_receivewal is running now. */
    public boolean running() {
        Process current = process;
        return current != null && current.isAlive();
    }

    /**
     * Starts streaming on a thread of its own. The replication slot is created first when it is missing; while that
     * fails (the server is down, the role lacks REPLICATION, pg_hba.conf has no replication line) the failure is
     * logged and tried again with the same growing delay, and the WAL simply waits on the server.
     */
    public WalReceiver start() {
        try {
            Files.createDirectories(spool);
            Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException | UnsupportedOperationException e) {
            throw new StowageException("cannot prepare WAL spool " + spool + " for job '" + job + "': " + e.getMessage());
        }
        supervisor.start();
        return this;
    }

    /** Creates the slot when it is missing; returns null, or why it could not. */
    private String ensureSlot() {
        List<String> create = command();
        create.addAll(List.of("--create-slot", "--if-not-exists"));
        Result created = runToEnd(create);
        return created.status() == 0 ? null : "cannot create replication slot " + slot + ": " + created.lastLine()
                + "; HINT: the role needs REPLICATION (or superuser), pg_hba.conf a 'replication' line for it, and the"
                + " server max_wal_senders > 0 (docs/postgresql.md)";
    }

    private List<String> command() {
        List<String> command = new ArrayList<>();
        command.add(connection.tool("pg_receivewal"));
        command.addAll(List.of("--slot", slot, "--no-password"));
        return command;
    }

    private Map<String, String> environment() {
        return connection.environment("replication");
    }

    private void supervise() {
        long delay = 1000;
        boolean slotReady = false;
        while (!stopping) {
            List<String> stream = command();
            stream.addAll(List.of("--directory", spool.toString(), "--synchronous", "--no-loop"));
            long started = System.nanoTime();
            String last;
            try {
                if (!slotReady) {
                    String problem = ensureSlot();
                    if (problem != null) {
                        throw new IOException(problem);
                    }
                    slotReady = true;
                }
                removeInterruptedPartials();
                ProcessBuilder builder = new ProcessBuilder(stream).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                io.stowage.pipeline.ChildEnvironment.prepare(builder.environment(), environment());
                synchronized (this) {
                    if (stopping) {
                        return;
                    }
                    process = builder.start();
                }
                LOG.info("pg_receivewal streams WAL of job {} into {} (slot {})", job, spool, slot);
                last = drain(process);
                int status = process.waitFor();
                last = "exited with status " + status + (last.isEmpty() ? "" : ": " + last);
            } catch (IOException | StowageException e) {
                last = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (stopping) {
                return;
            }
            if (System.nanoTime() - started > TimeUnit.MINUTES.toNanos(5)) {
                delay = 1000; // it ran for a while: this is a new failure, not the same one again
            }
            LOG.warn("pg_receivewal of job {} {}; starting it again in {} s", job, Secrets.mask(last), delay / 1000);
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            delay = Math.min(delay * 2, MAX_DELAY_MILLIS);
            restarts++;
        }
    }

    /**
     * pg_receivewal fills a new {@code .partial} file with zeros to the segment size before it writes WAL into it,
     * and refuses to start beside one of another size. Such a file was cut short while being filled (the receiver
     * stopped at that moment) and holds no WAL yet: it is removed, and the slot streams that segment again.
     */
    private void removeInterruptedPartials() throws IOException {
        long segmentSize = segmentSize();
        try (var files = Files.list(spool)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".partial")).toList()) {
                long size = Files.size(file);
                if (size != 0 && size != segmentSize) {
                    LOG.warn("removing {} from the WAL spool of job {}: {} bytes, cut short while pg_receivewal "
                            + "prepared it; the slot streams that segment again", file.getFileName(), job, size);
                    Files.delete(file);
                }
            }
        }
    }

    /** The server's WAL segment size; 16 MiB, PostgreSQL's default, when the server cannot be asked now. */
    private long segmentSize() {
        try (java.sql.Connection c = connection.open(connection.database());
             java.sql.Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT setting::bigint FROM pg_settings"
                     + " WHERE name = 'wal_segment_size'")) {
            return rs.next() ? rs.getLong(1) : 16L << 20;
        } catch (java.sql.SQLException | RuntimeException e) {
            return 16L << 20;
        }
    }

    /** Logs the tool's messages as they come and returns its last errors (or its last message). */
    private String drain(Process running) throws IOException {
        java.util.ArrayDeque<String> errors = new java.util.ArrayDeque<>();
        String last = "";
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(running.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (!line.isBlank()) {
                    last = line.strip();
                    LOG.info("pg_receivewal of job {}: {}", job, Secrets.mask(last));
                    if (last.contains("error:") || last.contains("FATAL") || last.contains("ERROR")) {
                        if (errors.size() == 3) {
                            errors.removeFirst();
                        }
                        errors.addLast(last.replaceFirst("^pg_receivewal: ", ""));
                    }
                }
            }
        }
        return errors.isEmpty() ? last : String.join("; ", errors);
    }

    private record Result(int status, String lastLine) {
    }

    private Result runToEnd(List<String> command) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            io.stowage.pipeline.ChildEnvironment.prepare(builder.environment(), environment());
            Process started = builder.start();
            String last = "";
            for (String line : new String(started.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    last = line.strip();
                }
            }
            if (!started.waitFor(60, TimeUnit.SECONDS)) {
                started.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(started.exitValue(), Secrets.mask(last));
        } catch (IOException e) {
            throw new StowageException("cannot run " + command.get(0) + ": " + e.getMessage()
                    + "; HINT: install the PostgreSQL client tools or set the job's pgBin");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StowageException("interrupted while creating replication slot " + slot);
        }
    }

    /** Stops streaming: SIGTERM, on which pg_receivewal flushes and exits; SIGKILL after 10 s. */
    @Override
    public void close() {
        Process current;
        synchronized (this) {
            stopping = true;
            current = process;
        }
        supervisor.interrupt();
        if (current != null && current.isAlive()) {
            current.destroy();
            try {
                if (!current.waitFor(10, TimeUnit.SECONDS)) {
                    current.destroyForcibly();
                }
            } catch (InterruptedException e) {
                current.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        LOG.info("pg_receivewal of job {} stopped", job);
    }
}
