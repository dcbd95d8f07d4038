package io.stowage.engine.redis;

import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.job.Job;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How to reach a job's Redis server: host, port, ACL user, password, TLS files, and where redis-cli and
 * redis-server are. The tools get the connection as arguments and the password only as {@code REDISCLI_AUTH} in
 * their environment, never as an argument, so no password shows in a process list.
 */
public record RedisConnection(String host, int port, String user, String password, boolean tls, String tlsCaCert,
                              String tlsCert, String tlsKey, String binDir, String socket) {

    public RedisConnection {
        Secrets.register(password);
    }

    public static RedisConnection of(Job job) {
        String portText = job.parameter("port", "6379");
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw StowageException.usage("job '" + job.name() + "': port '" + portText + "' is not a TCP port (1-65535)");
        }
        String tlsText = job.parameter("tls", "false").toLowerCase(java.util.Locale.ROOT);
        if (!tlsText.equals("true") && !tlsText.equals("false")) {
            throw StowageException.usage("job '" + job.name() + "': tls '" + tlsText + "' is neither true nor false");
        }
        return new RedisConnection(job.parameter("host", "localhost"), port, job.parameter("user", null),
                job.parameter("password", null), tlsText.equals("true"), job.parameter("tlsCaCert", null),
                job.parameter("tlsCert", null), job.parameter("tlsKey", null), job.parameter("redisBin", null),
                null);
    }

    /** A server on this host's loopback interface without password or TLS (a restored server). */
    public static RedisConnection local(int port, String binDir) {
        return new RedisConnection("127.0.0.1", port, null, null, false, null, null, null, binDir, null);
    }

    /** A server on a Unix socket, without password or TLS (a scratch server). */
    public static RedisConnection socket(java.nio.file.Path socket, String binDir) {
        return new RedisConnection("localhost", 0, null, null, false, null, null, null, binDir, socket.toString());
    }

    /** The arguments that reach the server: {@code -h HOST -p PORT [--user U] [--tls --cacert F --cert F --key F]}. */
    public List<String> arguments() {
        List<String> args = new ArrayList<>(socket != null ? List.of("-s", socket)
                : List.of("-h", host, "-p", Integer.toString(port)));
        if (user != null) {
            args.addAll(List.of("--user", user));
        }
        if (tls) {
            args.add("--tls");
            if (tlsCaCert != null) {
                args.addAll(List.of("--cacert", tlsCaCert));
            }
            if (tlsCert != null) {
                args.addAll(List.of("--cert", tlsCert));
            }
            if (tlsKey != null) {
                args.addAll(List.of("--key", tlsKey));
            }
        }
        return args;
    }

    /**
     * The tool's own environment: the password as {@code REDISCLI_AUTH} when there is one. (redis-cli sends an empty
     * {@code REDISCLI_AUTH} as a password, so none is set without a password.)
     */
    public Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        if (password != null) {
            env.put("REDISCLI_AUTH", password);
        }
        return env;
    }

    /** The path of a Redis tool: in the job's {@code redisBin} directory when set, else found on PATH. */
    public String tool(String name) {
        return binDir == null ? name : binDir + "/" + name;
    }

    /** For messages: {@code Redis at HOST:PORT (user U)}. */
    public String describe() {
        if (socket != null) {
            return "Redis at " + socket;
        }
        return "Redis at " + (host.contains(":") ? "[" + host + "]" : host) + ":" + port
                + (user == null ? "" : " (user '" + user + "')");
    }

    @Override
    public String toString() {
        return "RedisConnection[" + describe() + (tls ? ", tls" : "") + "]";
    }
}
