package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The SQL Stowage runs against a PostgreSQL server: all of it, in one place. */
public final class PostgresServer {
    private final PgConnection connection;

    public PostgresServer(PgConnection connection) {
        this.connection = connection;
    }

    public PgConnection connection() {
        return connection;
    }

    /** The server's version string, for example {@code 15.20}; also proves the job's connection works. */
    public String serverVersion() {
        try (Connection c = connection.open(connection.database());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1).split(" ")[0];
        } catch (SQLException e) {
            throw failure("read the server version", e);
        }
    }

    /**
     * What a physical backup records of its cluster, in one round trip: server version, system identifier, WAL
     * segment size, and whether the server archives its WAL.
     */
    public java.util.Map<String, String> clusterDetails() {
        try (Connection c = connection.open(connection.database());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT system_identifier FROM pg_control_system())::text,"
                     + " (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'),"
                     + " (SELECT setting FROM pg_settings WHERE name = 'archive_mode'),"
                     + " current_setting('server_version')")) {
            rs.next();
            return java.util.Map.of("systemIdentifier", rs.getString(1), "walSegmentSize", rs.getString(2),
                    "archiveMode", rs.getString(3), "serverVersion", rs.getString(4).split(" ")[0]);
        } catch (SQLException e) {
            throw failure("read the cluster's identity", e);
        }
    }

    public boolean databaseExists(String name) {
        try (Connection c = connection.open(connection.database());
             PreparedStatement s = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw failure("look up database '" + name + "'", e);
        }
    }

    /** Creates an empty database from template0, as pg_restore expects. */
    public void createDatabase(String name) {
        execute("CREATE DATABASE " + quote(name) + " TEMPLATE template0", "create database '" + name + "'");
    }

    /** Drops a database, closing its sessions first. */
    public void dropDatabase(String name) {
        execute("DROP DATABASE IF EXISTS " + quote(name) + " WITH (FORCE)", "drop database '" + name + "'");
    }

    private void execute(String sql, String what) {
        try (Connection c = connection.open(connection.database()); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** Quotes an identifier that {@link PgConnection#checkDatabaseName} has already checked. */
    static String quote(String identifier) {
        PgConnection.checkDatabaseName(identifier, "database");
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    private StowageException failure(String what, SQLException e) {
        return new StowageException("cannot " + what + " on PostgreSQL at " + connection.host() + ":"
                + connection.port() + ": " + PgConnection.firstLine(e.getMessage()), e);
    }
}
