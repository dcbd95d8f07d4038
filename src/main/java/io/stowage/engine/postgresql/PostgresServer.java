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

    /**
     * The warning a physical backup of job {@code job} from this cluster deserves, or null when it has no unlogged
     * tables: what a restore will lack, and what to do about it. When the question cannot be answered (the role may
     * not reach every database), that is the warning: it must not fail a backup.
     */
    public String unloggedWarning(String job) {
        try {
            return unloggedWarning(job, unloggedTables());
        } catch (StowageException e) {
            return "job " + job + ": cannot tell whether the cluster has unlogged tables, whose rows a physical backup "
                    + "does not hold: " + e.getMessage();
        }
    }

    /**
     * The unlogged tables of every database of the cluster that this role can connect to, as
     * {@code database.schema.table}: PostgreSQL writes no WAL for them and pg_basebackup copies none of their rows, so
     * a physical backup restores them empty.
     */
    private java.util.List<String> unloggedTables() {
        java.util.List<String> databases = new java.util.ArrayList<>();
        try (Connection c = connection.open(connection.database());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT datname FROM pg_database WHERE datallowconn"
                     + " AND has_database_privilege(datname, 'CONNECT') ORDER BY datname")) {
            while (rs.next()) {
                databases.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw failure("list the databases", e);
        }
        java.util.List<String> tables = new java.util.ArrayList<>();
        for (String database : databases) {
            try (Connection c = connection.open(database);
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n"
                         + " ON n.oid = c.relnamespace WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p')"
                         + " ORDER BY 1, 2")) {
                while (rs.next()) {
                    tables.add(database + "." + rs.getString(1) + "." + rs.getString(2));
                }
            } catch (SQLException e) {
                throw failure("look for unlogged tables in database '" + database + "'", e);
            }
        }
        return tables;
    }

    private static String unloggedWarning(String job, java.util.List<String> tables) {
        if (tables.isEmpty()) {
            return null;
        }
        int shown = Math.min(tables.size(), 5);
        return "job " + job + ": " + tables.size() + " unlogged table" + (tables.size() == 1 ? " has" : "s have")
                + " no rows in a physical backup (PostgreSQL writes no WAL for them): "
                + String.join(", ", tables.subList(0, shown)) + (tables.size() > shown ? ", and "
                + (tables.size() - shown) + " more" : "") + "; HINT: ALTER TABLE ... SET LOGGED for the rows to be"
                + " backed up, or back them up with a logical job";
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

    /** Whether a relation (table, view, sequence...) called {@code table} exists in this connection's database. */
    public boolean relationExists(TableName table) {
        return exists("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relname = ?", "look up " + table, table.schema(), table.name());
    }

    /** Whether {@code table} exists in this connection's database as a partitioned table. */
    public boolean isPartitioned(TableName table) {
        return exists("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relname = ? AND c.relkind = 'p'", "look up " + table, table.schema(),
                table.name());
    }

    /**
     * {@code table} and, when it is partitioned, its partitions (recursively), parents first; empty when there is no
     * such table in this connection's database.
     */
    public java.util.List<TableName> tableTree(TableName table) {
        return tables("SELECT n.nspname, c.relname FROM (SELECT c.oid, 0 AS level FROM pg_class c"
                + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?"
                + " AND c.relkind IN ('r', 'p')) t, LATERAL (SELECT t.oid AS relid, 0 AS level UNION ALL"
                + " SELECT p.relid, p.level FROM pg_partition_tree(t.oid) p WHERE p.relid <> t.oid::regclass) tree"
                + " JOIN pg_class c ON c.oid = tree.relid JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " ORDER BY tree.level, 1, 2", "read the partitions of " + table, table.schema(), table.name());
    }

    /** The tables and materialized views of this connection's database that hold rows, outside the system schemas. */
    public java.util.List<TableName> tablesWithData() {
        return tables("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind IN ('r', 'm') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
                + " ORDER BY 1, 2", "list the tables of database '" + connection.database() + "'");
    }

    private java.util.List<TableName> tables(String sql, String what, String... parameters) {
        try (Connection c = connection.open(connection.database()); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                s.setString(i + 1, parameters[i]);
            }
            java.util.List<TableName> tables = new java.util.ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    tables.add(new TableName(rs.getString(1), rs.getString(2)));
                }
            }
            return tables;
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    public boolean schemaExists(String schema) {
        return exists("SELECT 1 FROM pg_namespace WHERE nspname = ?", "look up schema " + schema, schema);
    }

    /**
     * Whether an object an archive lists ({@code kind} FUNCTION, TYPE, DOMAIN, SEQUENCE or EXTENSION; {@code schema}
     * and {@code tag} exactly as pg_dump names it: a function as {@code name(argument types)}, the types written as
     * {@code format_type} writes them with an empty search_path) exists in this connection's database.
     */
    public boolean objectExists(String kind, String schema, String tag) {
        String what = "look up " + kind.toLowerCase(java.util.Locale.ROOT) + " " + schema + "." + tag;
        return switch (kind) {
            case "FUNCTION" -> exists("SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                    + " WHERE n.nspname = ? AND format('%s(%s)', p.proname, oidvectortypes(p.proargtypes)) = ?", what,
                    schema, tag);
            case "TYPE", "DOMAIN" -> exists("SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
                    + " WHERE n.nspname = ? AND t.typname = ?", what, schema, tag);
            case "SEQUENCE" -> relationExists(new TableName(schema, tag));
            case "EXTENSION" -> exists("SELECT 1 FROM pg_extension WHERE extname = ?", what, tag);
            default -> false;
        };
    }

    /**
     * A foreign key of another table that references a table: where it is, its name, its definition (which ends
     * with NOT VALID when it was not validated), whether it was validated, and whether the table it is on is
     * partitioned (PostgreSQL cannot add a NOT VALID foreign key to a partitioned table).
     */
    public record ForeignKey(String table, String name, String definition, boolean validated, boolean partitioned) {
        /** {@code ALTER TABLE ... DROP CONSTRAINT ...}. */
        public String dropSql() {
            return "ALTER TABLE " + table + " DROP CONSTRAINT " + TableName.quote(name);
        }

        /**
         * Adds it back, in the restore's transaction: valid when the rows satisfy it, otherwise NOT VALID, so that
         * the restore still succeeds and the caller can name it; as it was when it was NOT VALID already. On a
         * partitioned table it can only be added valid, so rows that do not satisfy it fail the restore.
         */
        public String addBackSql() {
            String add = "ALTER TABLE " + table + " ADD CONSTRAINT " + TableName.quote(name) + " " + definition;
            if (!validated || partitioned) {
                return add;
            }
            String body = "BEGIN EXECUTE " + DatabaseProperties.literal(add) + "; EXCEPTION WHEN foreign_key_violation "
                    + "THEN EXECUTE " + DatabaseProperties.literal(add + " NOT VALID") + "; END";
            String tag = "$stowage$";
            for (int i = 1; body.contains(tag); i++) {
                tag = "$stowage" + i + "$";
            }
            return "DO " + tag + body + tag;
        }
    }

    /**
     * The foreign keys of other tables that reference {@code table}, its partitions (recursively) or, for a
     * partition, any of its ancestors (whose rows it holds), with fully qualified definitions. Keys on the table or
     * its partitions are not "other": they come with the table. Keys that PostgreSQL cloned onto partitions are left
     * out: they come and go with the key on the partitioned table.
     */
    public java.util.List<ForeignKey> foreignKeysReferencing(TableName table) {
        try (Connection c = connection.open(connection.database())) {
            try (Statement s = c.createStatement()) {
                s.execute("SET search_path = ''"); // pg_get_constraintdef then qualifies every name
            }
            try (PreparedStatement s = c.prepareStatement("WITH target AS (SELECT c.oid FROM pg_class c"
                    + " JOIN pg_namespace cn ON cn.oid = c.relnamespace WHERE cn.nspname = ? AND c.relname = ?),"
                    + " tree AS (SELECT oid FROM target"
                    + " UNION SELECT p.relid::oid FROM target, pg_partition_tree(target.oid) p),"
                    + " referenced AS (SELECT oid FROM tree"
                    + " UNION SELECT a.relid::oid FROM target, pg_partition_ancestors(target.oid) a)"
                    + " SELECT format('%I.%I', n.nspname, r.relname), k.conname,"
                    + " pg_get_constraintdef(k.oid), k.convalidated, r.relkind = 'p'"
                    + " FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid"
                    + " JOIN pg_namespace n ON n.oid = r.relnamespace WHERE k.contype = 'f' AND k.conparentid = 0"
                    + " AND k.confrelid IN (SELECT oid FROM referenced) AND k.conrelid NOT IN (SELECT oid FROM tree)"
                    + " ORDER BY 1, 2")) {
                s.setString(1, table.schema());
                s.setString(2, table.name());
                java.util.List<ForeignKey> keys = new java.util.ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        keys.add(new ForeignKey(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
                                rs.getBoolean(5)));
                    }
                }
                return keys;
            }
        } catch (SQLException e) {
            throw failure("read the foreign keys referencing " + table, e);
        }
    }

    /** Those of {@code keys} that are NOT VALID now. */
    public java.util.List<ForeignKey> notValid(java.util.List<ForeignKey> keys) {
        java.util.List<ForeignKey> found = new java.util.ArrayList<>();
        for (ForeignKey key : keys) {
            if (exists("SELECT 1 FROM pg_constraint WHERE conrelid = ?::regclass AND conname = ? AND NOT convalidated",
                    "look up foreign key " + key.name() + " on " + key.table(), key.table(), key.name())) {
                found.add(key);
            }
        }
        return found;
    }

    /**
     * What the server knows of transaction {@code id}: {@code committed}, {@code aborted}, {@code in progress} (asked
     * again until {@code waitMillis} have passed: a session whose client is gone ends soon), or null when the id is
     * too old to know.
     */
    public String transactionStatus(long id, long waitMillis) {
        long deadline = System.nanoTime() + waitMillis * 1_000_000;
        try (Connection c = connection.open(connection.database());
             PreparedStatement s = c.prepareStatement("SELECT txid_status(?)")) {
            s.setLong(1, id);
            while (true) {
                String status;
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    status = rs.getString(1);
                }
                if (!"in progress".equals(status) || System.nanoTime() > deadline) {
                    return status;
                }
                Thread.sleep(100);
            }
        } catch (SQLException e) {
            throw failure("ask whether transaction " + id + " committed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StowageException("interrupted while asking whether transaction " + id + " committed");
        }
    }

    /** Whether {@code sql} returns a row; run with an empty search_path, so that names print as pg_dump prints them. */
    private boolean exists(String sql, String what, String... parameters) {
        try (Connection c = connection.open(connection.database()); PreparedStatement s = c.prepareStatement(sql)) {
            try (Statement set = c.createStatement()) {
                set.execute("SET search_path = ''");
            }
            for (int i = 0; i < parameters.length; i++) {
                s.setString(i + 1, parameters[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }
}
