package io.stowage.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL cluster for the test JVM, made with the installed server binaries (initdb, pg_ctl) in a
 * temporary directory on a free port, with password authentication (scram-sha-256) so that a wrong password is
 * really refused. When the tests run as root the server runs as the 'postgres' user, as PostgreSQL requires.
 */
public final class ThrowawayPostgres {
    public static final String USER = "stowage_admin";
    public static final String PASSWORD = "Tr0ub4dor-test-pw";

    private static ThrowawayPostgres shared;

    private final Path binDir;
    private final Path dataDir;
    private final int port;

    private ThrowawayPostgres(Path binDir, Path dataDir, int port) {
        this.binDir = binDir;
        this.dataDir = dataDir;
        this.port = port;
    }

    /** The cluster shared by every test of this JVM; started on first use, stopped when the JVM exits. */
    public static synchronized ThrowawayPostgres get() {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::stop));
        }
        return shared;
    }

    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    /** Directory of the server's client tools (pg_dump, pg_restore of the same major version). */
    public Path binDir() {
        return binDir;
    }

    public Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("password", PASSWORD);
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database, props);
    }

    /** Runs statements in {@code database}, one by one. */
    public void execute(String database, String... statements) {
        try (Connection c = connect(database); var s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The first column of the first row {@code sql} returns in {@code database}, as a number. */
    public long number(String database, String sql) throws SQLException {
        try (Connection c = connect(database); var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The databases whose names are {@code LIKE pattern}, sorted. */
    public java.util.SortedSet<String> databases(String pattern) throws SQLException {
        java.util.SortedSet<String> names = new java.util.TreeSet<>();
        try (Connection c = connect("postgres");
             var s = c.prepareStatement("SELECT datname FROM pg_database WHERE datname LIKE ?")) {
            s.setString(1, pattern);
            try (var rs = s.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        return names;
    }

    public boolean databaseExists(String name) {
        try (Connection c = connect("postgres");
             var s = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            s.setString(1, name);
            try (var rs = s.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public void dropDatabase(String name) {
        execute("postgres", "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    }

    /** A new, empty database {@code name} (one of that name is dropped first), then {@code statements} run in it. */
    public void createDatabase(String name, String... statements) {
        dropDatabase(name);
        execute("postgres", "CREATE DATABASE \"" + name + "\"");
        execute(name, statements);
    }

    private static ThrowawayPostgres start() {
        return start(Map.of());
    }

    /**
     * A cluster of its own (not the shared one) with extra postgresql.conf settings, such as WAL archiving; the
     * caller stops it. {@code spool}, when given, is created writable by the server's user.
     */
    public static ThrowawayPostgres startNew(Map<String, String> settings) {
        return start(settings);
    }

    /** Makes a directory the server (running as 'postgres' when the tests run as root) can write. */
    public static Path serverWritableDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path temporary = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
        for (Path p = dir.toAbsolutePath().normalize().getParent(); p != null && !p.equals(temporary)
                && !p.equals(p.getRoot()); p = p.getParent()) {
            var perms = new java.util.HashSet<>(Files.getPosixFilePermissions(p));
            perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
            Files.setPosixFilePermissions(p, perms);
        }
        return dir;
    }

    private static ThrowawayPostgres start(Map<String, String> settings) {
        try {
            Path bin = findBinDir();
            boolean root = "root".equals(System.getProperty("user.name"));
            Path base = Files.createTempDirectory("stowage-pg-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path data = base.resolve("data");
            Path pwfile = base.resolve("pwfile");
            Files.writeString(pwfile, PASSWORD + "\n");
            if (root) {
                UserPrincipal postgres = base.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByName("postgres");
                Files.setOwner(base, postgres);
                Files.setOwner(pwfile, postgres);
            }
            int port = freePort();
            run(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER,
                    "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync"));
            Files.writeString(data.resolve("postgresql.conf"), "\nlisten_addresses = '127.0.0.1'\nport = " + port
                    + "\nunix_socket_directories = '" + base + "'\nfsync = off\nmax_connections = 50\n"
                    + settings.entrySet().stream().map(e -> e.getKey() + " = " + e.getValue() + "\n")
                            .collect(java.util.stream.Collectors.joining()),
                    java.nio.file.StandardOpenOption.APPEND);
            run(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                    base.resolve("server.log").toString(), "-w", "-t", "60", "start"));
            return new ThrowawayPostgres(bin, data, port);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a throwaway PostgreSQL: " + e.getMessage(), e);
        }
    }

    /**
     * Starts a server on a data directory made by someone else (a restore), on a free port, waiting until it
     * accepts connections; when the tests run as root the directory is handed to the 'postgres' user first.
     */
    public static ThrowawayPostgres startExisting(Path dataDir) {
        return startExisting(dataDir, "archive_mode=off");
    }

    /** As {@link #startExisting(Path)}, with extra server settings ({@code name=value}, space-separated). */
    public static ThrowawayPostgres startExisting(Path dataDir, String settings) {
        try {
            Path bin = findBinDir();
            boolean root = "root".equals(System.getProperty("user.name"));
            if (root) {
                run(false, List.of("chown", "-R", "postgres", dataDir.toString()));
                for (Path p = dataDir.getParent(); p != null && !p.equals(p.getRoot()); p = p.getParent()) {
                    var perms = new java.util.HashSet<>(Files.getPosixFilePermissions(p));
                    perms.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
                    Files.setPosixFilePermissions(p, perms);
                }
            }
            int port = freePort();
            run(root, List.of(bin.resolve("pg_ctl").toString(), "-D", dataDir.toString(), "-l",
                    dataDir.resolve("test-server.log").toString(), "-w", "-t", "120", "-o",
                    "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + dataDir
                            + " -c " + String.join(" -c ", settings.split(" ")), "start"));
            return new ThrowawayPostgres(bin, dataDir, port);
        } catch (IOException | IllegalStateException e) {
            String log = "";
            try {
                log = Files.readString(dataDir.resolve("test-server.log"));
            } catch (IOException ignored) {
                // no log
            }
            throw new IllegalStateException("cannot start PostgreSQL on " + dataDir + ": " + e.getMessage() + "\n" + log, e);
        }
    }

    /** A server someone else started on {@code dataDir} and {@code port}; {@link #stop()} stops it. */
    public static ThrowawayPostgres attach(Path dataDir, int port) {
        return new ThrowawayPostgres(findBinDir(), dataDir, port);
    }

    /** Waits until recovery has ended (the server promoted itself). */
    public void awaitRecoveryEnd() throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try (Connection c = connect("postgres"); var s = c.createStatement();
                 var rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
            } catch (SQLException starting) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("recovery did not end in " + dataDir);
    }

    public Path dataDir() {
        return dataDir;
    }

    public void stop() {
        try {
            run("root".equals(System.getProperty("user.name")), List.of(binDir.resolve("pg_ctl").toString(), "-D",
                    dataDir.toString(), "-m", "immediate", "-w", "stop"));
        } catch (RuntimeException | IOException ignored) {
            // the JVM is exiting
        }
        if (dataDir.getParent().getFileName().toString().startsWith("stowage-pg-")) {
            deleteTree(dataDir.getParent());
        }
    }

    private static void run(boolean asPostgres, List<String> command) throws IOException {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The newest installed PostgreSQL server: /usr/lib/postgresql/N/bin on Debian. */
    static Path findBinDir() {
        Path lib = Path.of("/usr/lib/postgresql");
        try (Stream<Path> versions = Files.list(lib)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString())))
                    .orElseThrow();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("no PostgreSQL server binaries under /usr/lib/postgresql: install them "
                    + "(apt-get install postgresql) or run bin/test, which does", e);
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    public static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
