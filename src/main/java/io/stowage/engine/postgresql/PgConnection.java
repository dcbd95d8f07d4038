package io.stowage.engine.postgresql;

import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.job.Job;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * How to reach a job's PostgreSQL server, as libpq understands it: host, port, user, password, database. The same
 * settings reach the JDBC driver (for catalog queries) and the client tools, which get them as libpq environment
 * variables, never as arguments, so no password shows in a process list.
 */
public record PgConnection(String host, int port, String user, String password, String database, String binDir) {
    /** Database names we create or pass to tools: plain identifiers, so they cannot be read as connection strings. */
    private static final Pattern DATABASE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$-]{0,62}");

    public PgConnection {
        Secrets.register(password);
    }

    public static PgConnection of(Job job) {
        String portText = job.parameter("port", "5432");
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw StowageException.usage("job '" + job.name() + "': port '" + portText + "' is not a number");
        }
        String database = checkDatabaseName(job.parameter("database", "postgres"), "job '" + job.name() + "' database");
        return new PgConnection(job.parameter("host", "localhost"), port,
                job.parameter("user", System.getProperty("user.name")), job.parameter("password", null), database,
                job.parameter("pgBin", null));
    }

    public static String checkDatabaseName(String name, String what) {
        if (name == null || !DATABASE.matcher(name).matches()) {
            throw StowageException.usage(what + " '" + name + "' is not a plain database name (letters, digits, '_', "
                    + "'$', '-'; at most 63; not starting with a digit)");
        }
        return name;
    }

    /** The same server, user and tools, in database {@code db}. */
    public PgConnection withDatabase(String db) {
        return new PgConnection(host, port, user, password, db, binDir);
    }

    /** The libpq environment for a tool that works on {@code db}. */
    public Map<String, String> environment(String db) {
        Map<String, String> env = new HashMap<>();
        env.put("PGHOST", host);
        env.put("PGPORT", Integer.toString(port));
        env.put("PGUSER", user);
        env.put("PGDATABASE", db);
        env.put("PGAPPNAME", "stowage");
        env.put("PGCONNECT_TIMEOUT", "10");
        if (password != null) {
            env.put("PGPASSWORD", password);
        }
        return env;
    }

    /** The path of a client tool: in the job's {@code pgBin} directory when set, else found on PATH. */
    public String tool(String name) {
        return binDir == null ? name : binDir + "/" + name;
    }

    /**
     * Opens a JDBC connection to {@code db}, over TCP, or over the Unix socket when the host is a directory (as libpq
     * reads PGHOST), turning the driver's failure into one line the operator can act on. */
    public Connection open(String db) {
        return open(db, "stowage");
    }

    /** As {@link #open(String)}, with the session's {@code application_name}, which pg_stat_activity shows. */
    public Connection open(String db, String applicationName) {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("connectTimeout", "10");
        props.setProperty("ApplicationName", applicationName);
        String url;
        if (host.startsWith("/")) {
            // A socket directory, as libpq takes it: the driver reaches the server's Unix socket through junixsocket.
            props.setProperty("socketFactory", "org.newsclub.net.unix.AFUNIXSocketFactory$FactoryArg");
            props.setProperty("socketFactoryArg", host + "/.s.PGSQL." + port);
            props.setProperty("sslmode", "disable");
            url = "jdbc:postgresql://localhost:" + port + "/" + db;
        } else {
            url = "jdbc:postgresql://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + db;
        }
        try {
            return DriverManager.getConnection(url, props);
        } catch (SQLException e) {
            throw connectionFailure(db, e);
        }
    }

    StowageException connectionFailure(String db, SQLException e) {
        String where = "PostgreSQL at " + host + ":" + port + " (database '" + db + "', user '" + user + "')";
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String reason = firstLine(e.getMessage());
        // The driver reports a login it could not even attempt (the server asked for a password and none was
        // given) as 08004, "connection rejected": that is about the role's credentials, not the host or the port.
        String lower = reason.toLowerCase(java.util.Locale.ROOT);
        boolean login = state.equals("28P01") || state.equals("28000") || state.equals("08004")
                && (lower.contains("password") || lower.contains("authentication"));
        String hint;
        if (login) {
            hint = "check role '" + user + "' and its password (the job's password, PGPASSWORD or ~/.pgpass), and "
                    + "that the server's pg_hba.conf lets this role into database '" + db + "' from this host";
        } else if (state.startsWith("08")) {
            hint = "is the server running, and are PGHOST and PGPORT right?";
        } else if (state.equals("3D000")) {
            hint = "check the job's database (PGDATABASE)";
        } else {
            hint = null;
        }
        String message = "cannot connect to " + where + ": " + Secrets.mask(reason) + (hint == null ? "" : "; HINT: " + hint);
        // A server that is down or restarting may be back soon; a refused password stays refused.
        boolean transientFailure = !login && (state.startsWith("08") || state.startsWith("57P"));
        return transientFailure ? StowageException.transientFailure(message, e) : new StowageException(message, e);
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        String line = message.strip().split("\\R", 2)[0];
        return line.isEmpty() ? "unknown error" : line;
    }

    @Override
    public String toString() {
        return "PgConnection[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
