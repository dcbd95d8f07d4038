package io.stowage.engine.postgresql;
import io.stowage.restore.ScratchLock;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.job.Job;
import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A throwaway PostgreSQL server on a physical backup, for work that needs the backup as a running database (one
 * table taken out of it, a verification): {@link #start} restores the backup (to a point in time, to everything
 * archived, or to the backup's own consistent point) into {@code <stowage.scratch.path>/<job>/data}, starts a
 * server there and returns once recovery has finished; {@link #connection} gives the libpq settings of that server
 * for client tools; {@link #close} stops it and deletes the whole directory.
 *
 * <p>The server is reachable only through a Unix socket in the scratch directory (owner-only), with trust
 * authentication there and no TCP listener, so nothing but Stowage (and root) can reach it; archiving is off. Run
 * as root, Stowage hands the directory to the {@value #SERVER_USER} user and starts the server as that user
 * ({@code runuser}), as PostgreSQL will not run as root. The directory name is fixed per job, and a lock file beside
 * it admits one scratch server per job at a time: what a killed earlier run left (a running postmaster, files) is
 * stopped and deleted before a new one starts. The disk under {@code stowage.scratch.path} needs room for the whole
 * restored cluster and its WAL.
 */
public final class ScratchServer implements AutoCloseable {
    /** The operating-system user the server runs as when Stowage runs as root. */
    public static final String SERVER_USER = ServerUser.NAME;

    private final Path directory;
    private final Path dataDirectory;
    private final int port;
    private final CatalogEntry backup;
    private final PgConnection jobConnection;
    private final ScratchLock lock;
    private final Thread shutdownHook;
    private boolean closed;

    private ScratchServer(Path directory, int port, CatalogEntry backup, PgConnection jobConnection,
                          ScratchLock lock) {
        this.directory = directory;
        this.dataDirectory = directory.resolve("data");
        this.port = port;
        this.backup = backup;
        this.jobConnection = jobConnection;
        this.lock = lock;
        this.shutdownHook = new Thread(this::close, "scratch-server-" + directory.getFileName());
    }

    /**
     * Restores {@code backupId} of {@code job} (null or {@code latest}: the newest that suits {@code target}) to
     * {@code target} in the job's scratch directory, starts a server on it and waits until recovery has finished.
     * On any failure, what was started and written is removed before the exception leaves.
     */
    public static ScratchServer start(io.stowage.engine.EngineContext services, Job job, String backupId, PhysicalRestore.Target target,
                                      Consumer<String> warnings) throws Exception {
        if (!"physical".equals(job.method())) {
            throw StowageException.usage("job '" + job.name() + "' makes " + job.method() + " backups: a scratch server "
                    + "is made from a physical backup");
        }
        PgConnection connection = PgConnection.of(job);
        ScratchLock lock = ScratchLock.acquire(() -> prepareRoot(services.scratchRoot()), job.name());
        Path directory = lock.root().resolve(job.name());
        ScratchServer server = null;
        try {
            removeLeftovers(directory, connection);
            Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            PhysicalRestore.Result restored = new PhysicalRestore(services, warnings).restore(job, backupId, target,
                    directory.resolve("data"), false, false, 0);
            server = new ScratchServer(directory, freePort(), restored.backup(), connection, lock);
            Runtime.getRuntime().addShutdownHook(server.shutdownHook);
            server.configure();
            server.startAndAwaitRecovery();
            return server;
        } catch (Exception | Error e) {
            if (server != null) {
                server.close();
            } else {
                io.stowage.FileTrees.deleteQuietly(directory);
                lock.close();
            }
            // The scratch directory is gone: what the restore said about leaving it marked does not hold.
            if (e instanceof IncompleteRestore.Marked marked) {
                throw marked.failure();
            }
            throw e;
        }
    }

    /** The scratch directory of this server (owner-only): the data directory is in it; callers may spool there. */
    public Path directory() {
        return directory;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The port number of the server's Unix socket (it listens on no TCP port). */
    public int port() {
        return port;
    }

    /** The backup the server was restored from. */
    public CatalogEntry backup() {
        return backup;
    }

    /**
     * libpq settings for client tools (pg_dump, psql) on {@code database} of this server: the socket directory as
     * host, the job's user, no password. Not for JDBC, which does not speak Unix sockets.
     */
    public PgConnection connection(String database) {
        PgConnection.checkDatabaseName(database, "database");
        return new PgConnection(directory.resolve("socket").toString(), port, jobConnection.user(), null, database,
                jobConnection.binDir());
    }

    /** Stops the server (fast, then immediate) and deletes the scratch directory; safe to call more than once. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from the hook itself
        }
        try {
            // Also after a stop (SIGTERM, SIGINT): a scratch server is never left running.
            Interruption.cleanUp(() -> stop(dataDirectory, jobConnection));
            io.stowage.FileTrees.deleteQuietly(directory);
        } catch (Exception unexpected) {
            throw new StowageException("cannot stop the scratch server on " + dataDirectory + ": "
                    + unexpected.getMessage(), unexpected);
        } finally {
            try {
                lock.close();
            } catch (IOException ignored) {
                // the lock goes with the channel
            }
        }
    }

    private static Path prepareRoot(Path configured) throws IOException {
        Path root = configured.toAbsolutePath().normalize();
        if (!ServerUser.shellSafe(root)) {
            throw StowageException.usage("stowage.scratch.path '" + root + "' may hold only letters, digits and / . _ + -");
        }
        if (Files.isSymbolicLink(root)) {
            throw StowageException.usage("stowage.scratch.path " + root + " is a symbolic link; use the real directory");
        }
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(root.getParent());
            Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        }
        UserPrincipal me = root.getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName(System.getProperty("user.name"));
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)
                || !Files.getOwner(root, LinkOption.NOFOLLOW_LINKS).equals(me)) {
            throw StowageException.usage("stowage.scratch.path " + root + " is not a directory owned by "
                    + System.getProperty("user.name") + "; HINT: remove it or choose another");
        }
        // Others may pass through (the server's user, when Stowage is root) but not list it.
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
        return root;
    }

    /** Stops a postmaster a killed run left on {@code directory}/data and deletes the directory. */
    private static void removeLeftovers(Path directory, PgConnection connection) throws IOException {
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path data = directory.resolve("data");
        if (Files.exists(data.resolve("postmaster.pid"))) {
            stop(data, connection);
        }
        io.stowage.FileTrees.delete(directory);
    }

    private static void stop(Path data, PgConnection connection) {
        if (!Files.exists(data.resolve("postmaster.pid"))) {
            return;
        }
        for (String mode : List.of("fast", "immediate")) {
            try {
                runAsServer(List.of(connection.tool("pg_ctl"), "-D", data.toString(), "-m", mode, "-w", "-t", "60",
                        "stop"), connection);
                return;
            } catch (RuntimeException tryHarder) {
                // next mode
            }
        }
    }

    /**
     * Settings that make the copy a private scratch server, appended to postgresql.auto.conf (read last, so they win
     * over the backup's own postgresql.conf): socket only, trust on that socket only, no archiving, modest memory.
     */
    private void configure() throws IOException {
        Path socket = Files.createDirectory(directory.resolve("socket"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path hba = directory.resolve("pg_hba.conf");
        Files.writeString(hba, "# stowage scratch server: its own socket only\nlocal all all trust\n");
        Files.setPosixFilePermissions(hba, PosixFilePermissions.fromString("rw-------"));
        if (!Files.exists(dataDirectory.resolve("postgresql.conf"))) {
            // Clusters whose configuration lives outside the data directory (Debian's /etc/postgresql) back up none.
            Files.writeString(dataDirectory.resolve("postgresql.conf"), "");
        }
        Files.writeString(dataDirectory.resolve("postgresql.auto.conf"), "\n# stowage scratch server\n"
                        + "listen_addresses = ''\nport = " + port + "\nunix_socket_directories = '" + socket + "'\n"
                        + "hba_file = '" + hba + "'\nssl = off\narchive_mode = off\n"
                        + "shared_buffers = '128MB'\nlogging_collector = off\ncluster_name = 'stowage-scratch'\n"
                        + "shared_preload_libraries = ''\n",
                StandardOpenOption.APPEND);
        if (ServerUser.ROOT) {
            try {
                ServerUser.handOver(directory);
            } catch (StowageException e) {
                throw new StowageException(e.getMessage().replace("restore into a directory that user can reach",
                        "set stowage.scratch.path to a directory it can reach"), e);
            }
        }
    }

    private void startAndAwaitRecovery() throws Exception {
        Path log = directory.resolve("server.log");
        try {
            runAsServer(List.of(jobConnection.tool("pg_ctl"), "-D", dataDirectory.toString(), "-l", log.toString(), "-w",
                    "-t", "3600", "start"), jobConnection);
        } catch (StowageException e) {
            throw new StowageException("the scratch server on " + dataDirectory + " did not start: " + logTail(log), e);
        }
        PgConnection local = connection(jobConnection.database());
        long deadline = System.currentTimeMillis() + 24 * 3_600_000L;
        while (System.currentTimeMillis() < deadline) {
            if (!Files.exists(dataDirectory.resolve("postmaster.pid"))) {
                throw new StowageException("the scratch server on " + dataDirectory + " stopped during recovery: "
                        + logTail(log));
            }
            try (ExternalProcess psql = ExternalProcess.start(List.of(local.tool("psql"), "--no-psqlrc", "--no-password",
                    "--tuples-only", "--no-align", "--command=SELECT pg_is_in_recovery()"),
                    local.environment(local.database()), false); InputStream out = psql.stdout()) {
                String answer = new String(out.readAllBytes(), StandardCharsets.UTF_8).trim();
                psql.awaitSuccess();
                if (answer.equals("f")) {
                    return;
                }
            } catch (Interruption.Interrupted stop) {
                throw stop;
            } catch (StowageException stillStarting) {
                // not accepting connections yet
            }
            Interruption.pause(500);
        }
        throw new StowageException("recovery on " + dataDirectory + " did not finish within a day");
    }

    private static String logTail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            List<String> telling = new ArrayList<>();
            for (String line : lines) {
                if (line.contains("FATAL") || line.contains("PANIC") || line.contains("ERROR")) {
                    telling.add(line.trim());
                }
            }
            List<String> chosen = telling.isEmpty() ? lines : telling;
            return chosen.isEmpty() ? "no server log" : chosen.get(chosen.size() - 1);
        } catch (IOException e) {
            return "no server log";
        }
    }

    private static void runAsServer(List<String> command, PgConnection connection) {
        ServerUser.run(command);
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
