package io.stowage.engine.redis;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A redis-server that Stowage starts on a restored {@code dump.rdb}: a scratch one for verification (in the
 * foreground, a child of Stowage, on a Unix socket in its owner-only directory, with no persistence), or the one a
 * restore's {@code --start} leaves running (daemonized, on 127.0.0.1 and the port asked for). Either way Stowage waits
 * until the dataset is loaded, and stops what it started when it fails to load.
 */
public final class RedisServer implements AutoCloseable {
    private static final long ANSWER_SECONDS = 60;

    private final RedisCli cli;
    private final Path directory;
    private final ExternalProcess foreground;
    private boolean closed;
    private boolean leaveRunning;

    private RedisServer(RedisCli cli, Path directory, ExternalProcess foreground) {
        this.cli = cli;
        this.directory = directory;
        this.foreground = foreground;
    }

    public RedisCli cli() {
        return cli;
    }

    /**
     * A scratch server on {@code directory/dump.rdb}: no TCP port, a Unix socket only its owner may use, no RDB saves
     * and no AOF, so it never writes into the directory but its log. Returns once the dataset is loaded; on failure
     * the server is stopped and the exception names the log's last error.
     */
    public static RedisServer scratch(String binDir, Path directory) {
        Path socket = directory.resolve("redis.sock");
        List<String> command = new ArrayList<>(List.of(tool(binDir, "redis-server"), "--port", "0",
                "--unixsocket", socket.toString(), "--unixsocketperm", "700",
                "--dir", directory.toString(), "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", directory.resolve("redis.log").toString(),
                "--pidfile", directory.resolve("redis.pid").toString()));
        ExternalProcess process = ExternalProcess.start(command, Map.of(), false);
        // The server logs to its file: its stdout ends when it does, which is how its end is seen.
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watcher = new Thread(() -> {
            try (java.io.InputStream out = process.stdout()) {
                out.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException e) {
                // ended
            }
            ended.set(true);
        }, "redis-server-" + directory.getFileName());
        watcher.setDaemon(true);
        watcher.start();
        RedisServer server = new RedisServer(new RedisCli(RedisConnection.socket(socket, binDir)), directory, process);
        try {
            server.awaitLoaded(() -> !ended.get());
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Starts a server that outlives Stowage on {@code directory/dump.rdb}, on 127.0.0.1 and {@code port}, and returns
     * once the dataset is loaded; on failure what started is stopped.
     */
    public static RedisServer daemon(String binDir, Path directory, int port) {
        Path pidFile = directory.resolve("redis.pid");
        // A server already on the port would answer for the one started here: refused before anything starts.
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new StowageException("port " + port + " of 127.0.0.1 is in use (" + e.getMessage() + "); HINT: choose "
                    + "a free --port for the restored redis-server");
        }
        try {
            // An earlier server's pid file (it is not running: the restore checked) would be read as the new one's.
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new StowageException("cannot remove " + pidFile + ": " + e.getMessage());
        }
        List<String> command = List.of(tool(binDir, "redis-server"), "--port", Integer.toString(port),
                "--dir", directory.toString(), "--dbfilename", "dump.rdb", "--daemonize", "yes",
                "--pidfile", pidFile.toString(), "--logfile", directory.resolve("redis.log").toString(),
                "--appendonly", "no", "--bind", "127.0.0.1");
        ExternalProcess launcher = ExternalProcess.start(command, Map.of(), false);
        try (launcher) {
            launcher.awaitSuccess();
        } catch (StowageException e) {
            throw new StowageException("cannot start redis-server on " + directory + ": " + e.getMessage());
        }
        RedisServer server = new RedisServer(new RedisCli(RedisConnection.local(port, binDir)), directory, null);
        long pidBy = System.nanoTime() + 10_000_000_000L;
        try {
            // Alive while its pid file names a live process; a server that wrote none within 10 s has failed.
            server.awaitLoaded(() -> pid(pidFile).map(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive)
                    .orElse(false)).orElse(System.nanoTime() < pidBy));
            String answering = server.cli.info("server").get("process_id");
            Optional<Long> started = pid(pidFile);
            if (started.isEmpty() || !started.get().toString().equals(answering)) {
                throw new StowageException("the redis-server answering on 127.0.0.1:" + port + " (pid " + answering
                        + ") is not the one started on " + directory + "; HINT: choose a free --port");
            }
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Whether {@code process} is a redis-server (its executable is redis-server, or redis-check-rdb, which Debian's
     * redis-server links to), so that a pid file naming another program by now is never acted on.
     */
    /**
     * A live redis-server whose data directory is {@code directory}: one whose pid file there names it, or, found
     * through /proc, one whose working directory it is (redis-server changes into its {@code dir}), whatever its
     * pid file (Debian's is in /run/redis) and whether it is daemonized. Processes of other users whose /proc
     * entries cannot be read are not seen.
     */
    static Optional<ProcessHandle> runningIn(Path directory) {
        Optional<ProcessHandle> byPidFile = pid(directory.resolve("redis.pid")).flatMap(ProcessHandle::of)
                .filter(RedisServer::isRedisServer);
        if (byPidFile.isPresent()) {
            return byPidFile;
        }
        Path real;
        try {
            real = directory.toRealPath();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
        return ProcessHandle.allProcesses().filter(RedisServer::isRedisServer).filter(p -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).equals(real);
            } catch (java.io.IOException | SecurityException | UnsupportedOperationException e) {
                return false;
            }
        }).findFirst();
    }

    static boolean isRedisServer(ProcessHandle process) {
        return process.isAlive() && process.info().command().map(c -> {
            String name = c.substring(c.lastIndexOf('/') + 1);
            return name.equals("redis-server") || name.equals("redis-check-rdb");
        }).orElse(false);
    }

    static String tool(String binDir, String name) {
        return binDir == null ? name : binDir + "/" + name;
    }

    static Optional<Long> pid(Path pidFile) {
        try {
            if (!Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            return Optional.of(Long.parseLong(Files.readString(pidFile, StandardCharsets.US_ASCII).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Waits until the server answers PING and INFO persistence says {@code loading:0}: as long as it loads, and up to
     * {@value #ANSWER_SECONDS} s for a first answer. Fails with the log's last error when the server has gone.
     */
    private void awaitLoaded(java.util.function.BooleanSupplier alive) {
        long answerBy = System.nanoTime() + ANSWER_SECONDS * 1_000_000_000L;
        String last = "no answer";
        while (true) {
            Interruption.check();
            boolean gone = !alive.getAsBoolean();
            if (gone) {
                throw new StowageException("redis-server on " + directory + " stopped before it had loaded dump.rdb: "
                        + logError() + "; HINT: its log is " + directory.resolve("redis.log"));
            }
            try {
                RedisCli.Reply reply = cli.command("INFO", "persistence");
                if (!reply.isError()) {
                    // The field itself: "async_loading:0" (Redis 7) is not "loading:0".
                    String loading = RedisCli.fields(reply.text()).get("loading");
                    if ("0".equals(loading)) {
                        return;
                    }
                    answerBy = Long.MAX_VALUE; // it answers: loading takes as long as it takes
                    last = "still loading";
                } else {
                    last = reply.error();
                    if (reply.error().startsWith("LOADING")) {
                        answerBy = Long.MAX_VALUE;
                    }
                }
            } catch (StowageException e) {
                last = e.getMessage();
            }
            if (System.nanoTime() > answerBy) {
                throw new StowageException("redis-server on " + directory + " did not answer within " + ANSWER_SECONDS
                        + " s (" + last + "); HINT: its log is " + directory.resolve("redis.log"));
            }
            try {
                Interruption.pause(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StowageException("interrupted while redis-server on " + directory + " was loading");
            }
        }
    }

    /** The log's last line that says what went wrong, or its last line. */
    String logError() {
        Path log = directory.resolve("redis.log");
        try {
            if (!Files.isRegularFile(log, LinkOption.NOFOLLOW_LINKS)) {
                return "it wrote no log";
            }
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            String chosen = null;
            for (String line : lines) {
                if (line.contains(" # ") || line.toLowerCase(java.util.Locale.ROOT).contains("error")
                        || line.contains("Fatal") || line.contains("Short read")) {
                    chosen = line;
                }
            }
            if (chosen == null) {
                chosen = lines.isEmpty() ? "an empty log" : lines.get(lines.size() - 1);
            }
            return chosen.replaceFirst("^\\d+:[A-Z] [^*#]*[*#] ", "").strip();
        } catch (IOException e) {
            return "its log cannot be read (" + e.getMessage() + ")";
        }
    }

    /** The restore is done: {@link #close} leaves a daemonized server running. */
    void leaveRunning() {
        leaveRunning = foreground == null;
    }

    /**
     * Stops the server without saving. The scratch one: SHUTDOWN NOSAVE on its private socket, then the process is
     * stopped if it lingers. A daemon that failed: killed through its pid file (never a command to the port, where
     * another server may answer; never a signal that could make it save a partly loaded dataset over dump.rdb).
     */
    @Override
    public void close() {
        if (closed || leaveRunning) {
            return;
        }
        closed = true;
        if (foreground != null) {
            try {
                cli.command("SHUTDOWN", "NOSAVE");
            } catch (RuntimeException e) {
                // it may be gone already, or not answer: stopped below
            }
            foreground.close();
            return;
        }
        pid(directory.resolve("redis.pid")).flatMap(ProcessHandle::of).ifPresent(p -> {
            if (isRedisServer(p)) {
                p.destroyForcibly();
                try {
                    p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    // reported by the caller's failure
                }
            }
        });
    }
}
