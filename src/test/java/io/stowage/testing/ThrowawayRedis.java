package io.stowage.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server for a test, started from the installed binary on a free port of 127.0.0.1 in a temporary
 * directory, with an optional password ({@code requirepass}) and no persistence of its own. It is cheap (a few
 * milliseconds), so each test starts its own and closes it, which stops it. Data is loaded over a small RESP client
 * of its own (values of several MB pass, which redis-cli's arguments would not).
 */
public final class ThrowawayRedis implements AutoCloseable {
    private final Path directory;
    private final int port;
    private final String password;
    private final Process process;

    private ThrowawayRedis(Path directory, int port, String password, Process process) {
        this.directory = directory;
        this.port = port;
        this.password = password;
        this.process = process;
    }

    public static ThrowawayRedis start() {
        return start(null);
    }

    /** A server that needs {@code password} (null: none), with more configuration ({@code --rename-command ...}). */
    public static ThrowawayRedis start(String password, String... configuration) {
        try {
            Path directory = Files.createTempDirectory("stowage-redis-");
            int port = freePort();
            List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
                    "--bind", "127.0.0.1", "--dir", directory.toString(), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--logfile", directory.resolve("redis.log").toString()));
            if (password != null) {
                command.addAll(List.of("--requirepass", password));
            }
            command.addAll(List.of(configuration));
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(directory.resolve("stdout.log").toFile()).start();
            ThrowawayRedis redis = new ThrowawayRedis(directory, port, password, process);
            // A JVM that ends (or is stopped) before close() leaves no server behind (a SIGKILL still can).
            Thread hook = new Thread(process::destroy, "stop-redis-" + port);
            Runtime.getRuntime().addShutdownHook(hook);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try {
                    if ("PONG".equals(redis.call("PING"))) {
                        return redis;
                    }
                } catch (IOException e) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        redis.close();
                        throw new IllegalStateException("redis-server did not start: "
                                + Files.readString(directory.resolve("redis.log")), e);
                    }
                }
                Thread.sleep(20);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    public String host() {
        return "127.0.0.1";
    }

    public String password() {
        return password;
    }

    public Path directory() {
        return directory;
    }

    public long pid() {
        return process.pid();
    }

    /** Sends one command and returns its reply: String, Long, byte[] never (bulk as String), List, or null. */
    public Object call(Object... args) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            if (password != null) {
                write(out, new Object[] {"AUTH", password});
                read(in);
            }
            write(out, args);
            return read(in);
        }
    }

    /** Runs a batch of commands on one connection (pipelined), for loading data; fails on an error reply. */
    public void load(int database, List<Object[]> commands) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(120_000);
            OutputStream out = new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
            int sent = 0;
            if (password != null) {
                write(out, new Object[] {"AUTH", password});
                sent++;
            }
            write(out, new Object[] {"SELECT", Integer.toString(database)});
            sent++;
            for (Object[] command : commands) {
                write(out, command);
                sent++;
            }
            out.flush();
            for (int i = 0; i < sent; i++) {
                read(in);
            }
        }
    }

    /**
     * A data set across databases: {@code keys} small strings per database in each of {@code databases}, a hash, a
     * list, a set, a sorted set and a stream in db0, and {@code bigValues} values of {@code bigBytes} random-ish
     * bytes in db0.
     */
    public void loadSample(int databases, int keys, int bigValues, int bigBytes) throws IOException {
        Random random = new Random(42);
        for (int db = 0; db < databases; db++) {
            List<Object[]> commands = new ArrayList<>();
            for (int i = 0; i < keys; i++) {
                commands.add(new Object[] {"SET", "key:" + db + ":" + i, "value-" + i + "-" + random.nextLong()});
            }
            if (db == 0) {
                for (int i = 0; i < 200; i++) {
                    commands.add(new Object[] {"HSET", "hash", "f" + i, "v" + random.nextInt()});
                    commands.add(new Object[] {"RPUSH", "list", "item-" + i});
                    commands.add(new Object[] {"SADD", "set", "member-" + i});
                    commands.add(new Object[] {"SADD", "intset", Integer.toString(i)});
                    commands.add(new Object[] {"ZADD", "zset", Double.toString(random.nextDouble()), "m" + i});
                    commands.add(new Object[] {"XADD", "stream", "*", "field", "value-" + i});
                }
                commands.add(new Object[] {"XGROUP", "CREATE", "stream", "readers", "0"});
                commands.add(new Object[] {"XREADGROUP", "GROUP", "readers", "alice", "COUNT", "5", "STREAMS",
                        "stream", ">"});
                for (int i = 0; i < bigValues; i++) {
                    byte[] value = new byte[bigBytes];
                    for (int j = 0; j < value.length; j++) {
                        value[j] = (byte) (j % 7 == 0 ? random.nextInt() : 'a' + (j % 23));
                    }
                    commands.add(new Object[] {"SET", "big:" + i, value});
                }
            }
            load(db, commands);
        }
    }

    private static void write(OutputStream out, Object[] args) throws IOException {
        out.write(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (Object arg : args) {
            byte[] bytes = arg instanceof byte[] b ? b : String.valueOf(arg).getBytes(StandardCharsets.UTF_8);
            out.write(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        String line = line(in);
        switch (type) {
            case '+':
                return line;
            case '-':
                throw new IOException("redis error: " + line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length + 2);
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    items.add(read(in));
                }
                return items;
            }
            default:
                throw new IOException("unexpected reply type " + type);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') {
                bytes.write(b);
            }
        }
        if (b == -1) {
            throw new IOException("connection closed");
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Every redis-server process on this host now (pids), to check that a test left none running. */
    public static List<Long> runningServers() {
        return ProcessHandle.allProcesses().filter(ThrowawayRedis::isRedisServer).map(ProcessHandle::pid).toList();
    }

    /** redis-server sets its process title to "redis-server ADDRESS"; on Debian its executable is redis-check-rdb. */
    private static boolean isRedisServer(ProcessHandle process) {
        try {
            String title = Files.readString(Path.of("/proc", Long.toString(process.pid()), "cmdline"),
                    StandardCharsets.ISO_8859_1);
            if (title.startsWith("redis-server")) {
                return true;
            }
        } catch (IOException | RuntimeException e) {
            // gone, or not readable
        }
        return process.info().command().map(c -> c.endsWith("/redis-server") || c.endsWith("/redis-check-rdb"))
                .orElse(false);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(directory)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory
        }
    }
}
