package io.stowage.engine.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The commands Stowage sends a Redis server itself (PING, INFO, CONFIG GET, probes), through {@code redis-cli} with
 * an argument list: the same tool, connection arguments and TLS files as the backup, so what {@code check} proves is
 * what the backup uses, and the server's own words (WRONGPASS, NOAUTH, NOPERM) reach the operator. Replies are read
 * in redis-cli's JSON output ({@code -2 --json}), which keeps an integer, a string, nil and an array apart; redis-cli
 * exits 0 after an error reply, so errors are read from its output.
 */
public final class RedisCli {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_OUTPUT = 16 << 20;
    private static final long TIMEOUT_SECONDS = 30;

    private final RedisConnection connection;

    public RedisCli(RedisConnection connection) {
        this.connection = connection;
    }

    public RedisConnection connection() {
        return connection;
    }

    /** A reply: its JSON form ({@code null} node for nil), or the server's error line. */
    public record Reply(JsonNode value, String error) {
        public boolean isError() {
            return error != null;
        }

        /** Whether the reply holds something: not nil, not an empty array. */
        public boolean hasRow() {
            return !isError() && value != null && !value.isNull() && !(value.isArray() && value.isEmpty());
        }

        /** The reply as text: an integer's digits, a string's text; an array's first element; null for nil. */
        public String text() {
            JsonNode node = value;
            while (node != null && node.isArray()) {
                node = node.isEmpty() ? null : node.get(0);
            }
            if (node == null || node.isNull()) {
                return null;
            }
            return node.isValueNode() ? node.asText() : node.toString();
        }
    }

    /** redis-cli's version, for the manifest: {@code 7.0.15}. */
    public String toolVersion() {
        Run run = run(List.of(connection.tool("redis-cli"), "--version"), false);
        String out = run.stdout.strip();
        return out.startsWith("redis-cli ") ? out.substring("redis-cli ".length()).split("\\s+")[0] : out;
    }

    /**
     * Sends one command and returns its reply; an error reply is returned (not thrown) so that a probe can report it.
     * A failure to reach or log in to the server throws, in one line with a hint.
     */
    public Reply command(String... args) {
        return command(List.of(args));
    }

    public Reply command(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(connection.tool("redis-cli"));
        command.addAll(connection.arguments());
        command.addAll(List.of("-2", "--json"));
        command.addAll(args);
        Run run = run(command, true);
        String out = run.stdout.strip();
        if (out.startsWith("error:")) {
            String error = unquote(out.substring("error:".length()));
            requireLoggedIn(error, run.stderr, args.get(0));
            return new Reply(null, Secrets.mask(error));
        }
        requireLoggedIn("", run.stderr, args.get(0));
        try {
            return new Reply(out.isEmpty() ? null : JSON.readTree(out), null);
        } catch (IOException e) {
            // Not JSON (INFO's text is printed as it is): the text itself.
            return new Reply(JSON.getNodeFactory().textNode(run.stdout), null);
        }
    }

    /** Sends a command that must succeed; an error reply throws, naming the command. */
    public Reply require(String... args) {
        Reply reply = command(args);
        if (reply.isError()) {
            throw failure(args[0], reply.error());
        }
        return reply;
    }

    /** PING, with the clear errors: unreachable, wrong password, password needed, TLS. */
    public void ping() {
        Reply reply = require("PING");
        if (!"PONG".equals(reply.text())) {
            throw new StowageException(connection.describe() + " answered PING with '" + reply.text() + "', not PONG");
        }
    }

    /** {@code INFO section} as its fields: {@code redis_version -> 7.0.15}. */
    public Map<String, String> info(String section) {
        return fields(require("INFO", section).text());
    }

    /** INFO's text as its fields. */
    static Map<String, String> fields(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        if (text != null) {
            for (String line : text.split("\\R")) {
                int colon = line.indexOf(':');
                if (!line.startsWith("#") && colon > 0) {
                    fields.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
                }
            }
        }
        return fields;
    }

    /** Keys per database from {@code INFO keyspace}: {@code db0 -> 123}; databases without keys are absent. */
    public Map<String, Long> keyspace() {
        Map<String, Long> keys = new java.util.TreeMap<>(RdbKeyspace.DATABASE_ORDER);
        info("keyspace").forEach((db, value) -> {
            for (String part : value.split(",")) {
                if (part.startsWith("keys=")) {
                    keys.put(db, Long.parseLong(part.substring("keys=".length())));
                }
            }
        });
        return keys;
    }

    /** Fails when the server or redis-cli said the login did not work; {@code reply}: an error reply or "". */
    private void requireLoggedIn(String reply, String stderr, String command) {
        String all = reply + "\n" + stderr;
        for (String line : all.split("\\R")) {
            String l = line.strip();
            if (isTls(l)) {
                throw tls(connection, l);
            }
            if (l.startsWith("Could not connect to Redis")) {
                throw unreachable(connection, l);
            }
            if (l.contains("WRONGPASS") || l.contains("invalid password") || l.contains("invalid username-password")) {
                throw wrongPassword(connection, l);
            }
        }
        if (reply.startsWith("NOAUTH")) {
            throw noAuth(connection);
        }
    }

    static boolean isTls(String line) {
        return line.startsWith("Could not negotiate a TLS connection") || line.contains("SSL_connect")
                || line.contains("Failed to create SSL_CTX") || line.contains("Invalid CA Certificate")
                || line.contains("Invalid client certificate") || line.contains("Invalid private key");
    }

    static StowageException tls(RedisConnection connection, String line) {
        return new StowageException("cannot open a TLS connection to " + connection.describe() + ": "
                + Secrets.mask(line.replaceFirst("^Could not connect to Redis at [^:]*:\\d+: ", "")
                        .replaceFirst("^Could not negotiate a TLS connection: ", ""))
                + "; HINT: check the job's tls, tlsCaCert, tlsCert and tlsKey (and that the server speaks TLS there)");
    }

    static StowageException unreachable(RedisConnection connection, String line) {
        return StowageException.transientFailure("cannot reach " + connection.describe() + ": "
                + Secrets.mask(line.replaceFirst("^Could not connect to Redis at [^:]*:\\d+: ", ""))
                + "; HINT: is the server running, and are the job's host and port right?", null);
    }

    static StowageException wrongPassword(RedisConnection connection, String line) {
        return new StowageException(connection.describe() + " refused the login: "
                + Secrets.mask(line.replaceFirst("^AUTH failed: ", "")) + "; HINT: check the job's "
                + (connection.user() == null ? "" : "user and ") + "password (the password parameter or REDISCLI_AUTH)");
    }

    static StowageException noAuth(RedisConnection connection) {
        return new StowageException(connection.describe() + ": the server needs a password: set the job's password "
                + "parameter (or REDISCLI_AUTH in Stowage's environment)");
    }

    /** An error reply to a command that had to succeed. */
    StowageException failure(String command, String error) {
        String upper = command.toUpperCase(Locale.ROOT);
        if (error.startsWith("NOPERM")) {
            return new StowageException(connection.describe() + " does not let " + (connection.user() == null
                    ? "this user" : "user '" + connection.user() + "'") + " run " + upper + ": " + error
                    + "; HINT: grant it (see docs/redis.md for the ACL Stowage needs)");
        }
        if (error.startsWith("LOADING")) {
            return StowageException.transientFailure(connection.describe() + " is loading its dataset: " + error, null);
        }
        return new StowageException(connection.describe() + " refused " + upper + ": " + error);
    }

    private static String unquote(String text) {
        String t = text.strip();
        try {
            JsonNode node = JSON.readTree(t);
            if (node != null && node.isTextual()) {
                return node.asText().strip();
            }
        } catch (IOException e) {
            // as it is
        }
        return t;
    }

    private record Run(String stdout, String stderr) {
    }

    /** Runs redis-cli to its end (at most {@value #TIMEOUT_SECONDS} s), with its output. */
    private Run run(List<String> command, boolean withPassword) {
        ExternalProcess process = ExternalProcess.start(command, withPassword ? connection.environment() : Map.of(),
                false);
        CompletableFuture<Void> timeout = new CompletableFuture<>();
        boolean[] timedOut = {false};
        CompletableFuture.delayedExecutor(TIMEOUT_SECONDS, TimeUnit.SECONDS).execute(() -> {
            if (!timeout.isDone()) {
                timedOut[0] = true;
                process.close();
            }
        });
        String stdout;
        try (process; InputStream in = process.stdout()) {
            byte[] bytes = in.readNBytes(MAX_OUTPUT);
            in.transferTo(java.io.OutputStream.nullOutputStream());
            stdout = new String(bytes, StandardCharsets.UTF_8);
            try {
                process.awaitSuccess();
            } catch (StowageException e) {
                requireLoggedIn("", process.stderr(), command.get(command.size() - 1));
                throw new StowageException(timedOut[0] ? "redis-cli did not answer within " + TIMEOUT_SECONDS
                        + " s for " + connection.describe() + (connection.tls() ? "; HINT: does the server speak TLS on"
                        + " that port (tls is true)? Is it reachable (a firewall dropping packets)?" : "; HINT: is the "
                        + "server reachable (a firewall dropping packets), or does it speak only TLS there?")
                        : Secrets.mask(e.getMessage()), e);
            }
            return new Run(stdout, process.stderr());
        } catch (IOException e) {
            throw new StowageException("cannot read redis-cli's output for " + connection.describe() + ": "
                    + e.getMessage(), e);
        } finally {
            timeout.complete(null);
        }
    }
}
