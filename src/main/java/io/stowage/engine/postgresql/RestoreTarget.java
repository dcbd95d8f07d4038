package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The database a whole-database restore goes into, built under a staging name and renamed into place only once it
 * is complete, so that a restore cut short at any point (SIGKILL included) never leaves something that looks
 * restored: until the rename, the target does not exist (or, with --force, is the old database, untouched); after
 * it, the target is complete. The staging database is called {@code <target>-stowage-restoring-<pid>} and carries a
 * comment saying whose unfinished restore it is; the old target being replaced is renamed
 * {@code <target>-stowage-replaced-<pid>} in the same transaction as the new one takes its name, and dropped
 * afterwards. Whatever a killed restore leaves has one of those names: the next restore into the same target removes
 * it, and {@code check} reports it.
 *
 * <p>The restore holds one session on the maintenance database for its whole length, with the staging name as its
 * {@code application_name}: a staging database is in use, and never taken for a leftover, while that session or
 * pg_restore's is alive. A session dies with its process, so a killed restore's staging database is free to remove.
 */
public final class RestoreTarget implements AutoCloseable {
    private static final String RESTORING = "-stowage-restoring-";
    private static final String REPLACED = "-stowage-replaced-";
    private static final Pattern SUFFIX = Pattern.compile("(" + RESTORING + "|" + REPLACED + ")\\d+");
    private static final Pattern LEFTOVER = Pattern.compile(".*" + SUFFIX.pattern());
    /** What keeps room for the longest suffix (a seven-digit pid) within PostgreSQL's 63 bytes. */
    private static final int STEM = 63 - RESTORING.length() - 7;
    private static final int MAX_RENAME_ATTEMPTS = 5;

    private final PgConnection maintenance;
    private final String target;
    private final String staging;
    private final String replaced;
    private final Connection session;
    private boolean created;

    private RestoreTarget(PgConnection maintenance, String target, long pid, Connection session) {
        this.maintenance = maintenance;
        this.target = target;
        this.staging = stem(target) + RESTORING + pid;
        this.replaced = stem(target) + REPLACED + pid;
        this.session = session;
    }

    /**
     * Refuses a target name Stowage uses for its own staging and replaced databases: a restore into one could be
     * taken for (and removed as) a leftover.
     */
    public static void checkTargetName(String target) {
        if (target.contains(RESTORING) || target.contains(REPLACED)) {
            throw StowageException.usage("target database '" + target + "' has a name Stowage gives to unfinished "
                    + "restores (" + RESTORING + " or " + REPLACED + "); HINT: choose another --target-database");
        }
    }

    /** Opens the restore's session on {@code maintenance} (a database other than the target) for {@code target}. */
    public static RestoreTarget open(PgConnection maintenance, String target) {
        long pid = ProcessHandle.current().pid();
        Connection session = maintenance.open(maintenance.database(), stem(target) + RESTORING + pid);
        return new RestoreTarget(maintenance, target, pid, session);
    }

    /** The name the restore writes into until it is complete. */
    public String staging() {
        return staging;
    }

    public String target() {
        return target;
    }

    public boolean targetExists() {
        return exists(target);
    }

    /**
     * Fails, before anything is done, when the session's role could not drop the existing target at the end (only
     * its owner, a member of the owner role, or a superuser may).
     */
    public void requireReplaceable() {
        try (PreparedStatement s = session.prepareStatement("SELECT pg_get_userbyid(datdba),"
                + " pg_has_role(datdba, 'USAGE') FROM pg_database WHERE datname = ?")) {
            s.setString(1, target);
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next() && !rs.getBoolean(2)) {
                    throw new StowageException("cannot replace database '" + target + "': it is owned by role "
                            + rs.getString(1) + " and role " + maintenance.user() + " may not drop it; HINT: restore "
                            + "as that role or a member of it (GRANT " + rs.getString(1) + " TO " + maintenance.user()
                            + "), or into another --target-database");
                }
            }
        } catch (SQLException e) {
            throw failure("look up the owner of database '" + target + "'", e);
        }
    }

    /**
     * Removes what restores into the same target left when they were killed (warning about each), and refuses to
     * go on while another restore into it is still running.
     */
    public void removeLeftovers(Consumer<String> warnings) {
        for (String name : databases()) {
            if (!isLeftoverOf(name, target)) {
                continue;
            }
            boolean unfinished = name.contains(RESTORING);
            if (unfinished && inUse(name)) {
                throw new StowageException("another restore into database '" + target + "' is running (its "
                        + "unfinished copy '" + name + "' is in use); HINT: wait for it to finish");
            }
            try {
                execute("DROP DATABASE IF EXISTS " + DatabaseProperties.identifier(name) + " WITH (FORCE)");
                warnings.accept("removed database '" + name + "', left by an interrupted restore into '" + target
                        + "'" + (unfinished ? " (an unfinished copy)" : " (the database that restore had replaced)"));
            } catch (SQLException e) {
                warnings.accept("database '" + name + "', left by an interrupted restore into '" + target + "', could "
                        + "not be removed: " + PgConnection.firstLine(e.getMessage()) + "; HINT: DROP DATABASE \""
                        + name + "\" as its owner");
            }
        }
    }

    /**
     * Creates the staging database, owned by {@code owner} (null: the session's role), marked with
     * {@code marker} as its comment until the restore is complete.
     */
    public void create(String owner, String marker) {
        try {
            execute("CREATE DATABASE " + DatabaseProperties.identifier(staging) + " TEMPLATE template0"
                    + (owner == null ? "" : " OWNER " + DatabaseProperties.identifier(owner)));
            created = true;
            execute("COMMENT ON DATABASE " + DatabaseProperties.identifier(staging) + " IS "
                    + DatabaseProperties.literal(marker));
        } catch (SQLException e) {
            String reason = PgConnection.firstLine(e.getMessage());
            String hint = null;
            if (reason.contains("permission denied to create database")) {
                hint = "ALTER ROLE " + maintenance.user() + " CREATEDB (a restore builds a new database and renames it "
                        + "into place)";
            } else if (owner != null && reason.contains("must be")) {
                hint = "GRANT " + owner + " TO " + maintenance.user() + ", so that it may create a database owned by "
                        + owner;
            }
            throw new StowageException("cannot create database '" + staging + "' for the restore into '" + target
                    + "' on PostgreSQL at " + maintenance.host() + ":" + maintenance.port() + ": " + reason
                    + (hint == null ? "" : "; HINT: " + hint), e);
        }
    }

    /**
     * Makes the restore visible, in one transaction: the old target (with {@code replace}) is renamed aside, the
     * staging database takes the target's name, and {@code properties} are applied. A property that fails (a role
     * this server lacks, for instance) is rolled back alone and reported to {@code warnings}; everything else
     * commits together or not at all. The old target is then dropped.
     */
    public void commit(boolean replace, List<DatabaseProperties.Statement> properties, Consumer<String> warnings) {
        for (int attempt = 1; ; attempt++) {
            List<String> failed = new ArrayList<>();
            if (replace) {
                terminateSessions(target);
            }
            try {
                session.setAutoCommit(false);
                try {
                    if (replace) {
                        execute("ALTER DATABASE " + DatabaseProperties.identifier(target) + " RENAME TO "
                                + DatabaseProperties.identifier(replaced));
                    }
                    execute("ALTER DATABASE " + DatabaseProperties.identifier(staging) + " RENAME TO "
                            + DatabaseProperties.identifier(target));
                    for (DatabaseProperties.Statement property : properties) {
                        java.sql.Savepoint savepoint = session.setSavepoint();
                        try {
                            execute(property.sql());
                            session.releaseSavepoint(savepoint);
                        } catch (SQLException e) {
                            session.rollback(savepoint);
                            failed.add(property.description() + " was not restored: "
                                    + PgConnection.firstLine(e.getMessage()) + hint(e));
                        }
                    }
                    session.commit();
                    created = false;
                } catch (SQLException e) {
                    session.rollback();
                    throw e;
                } finally {
                    session.setAutoCommit(true);
                }
            } catch (SQLException e) {
                if ("55006".equals(e.getSQLState()) && attempt < MAX_RENAME_ATTEMPTS) {
                    continue; // a session reached the database between the termination and the rename
                }
                if ("42P04".equals(e.getSQLState())) {
                    throw new StowageException("database '" + target + "' was created while the restore ran; nothing "
                            + "was replaced", e);
                }
                throw failure("rename database '" + staging + "' to '" + target + "'", e);
            }
            for (String failure : failed) {
                warnings.accept("database '" + target + "': " + failure);
            }
            break;
        }
        if (replace) {
            try {
                execute("DROP DATABASE IF EXISTS " + DatabaseProperties.identifier(replaced) + " WITH (FORCE)");
            } catch (SQLException e) {
                warnings.accept("the replaced database, now '" + replaced + "', could not be dropped: "
                        + PgConnection.firstLine(e.getMessage()) + "; HINT: DROP DATABASE \"" + replaced + "\"");
            }
        }
    }

    /**
     * Drops the staging database after a failed restore, whatever interrupted it: the thread's interrupt status is
     * set aside while the drop runs (so the drop is not cut short too) and restored after. Returns what happened,
     * for the error message.
     */
    public String abandon() {
        if (!created) {
            return "database '" + target + "' was not changed";
        }
        boolean interrupted = Thread.interrupted();
        try {
            execute("DROP DATABASE IF EXISTS " + DatabaseProperties.identifier(staging) + " WITH (FORCE)");
            created = false;
            return "the unfinished copy was dropped; database '" + target + "' was not changed";
        } catch (SQLException | RuntimeException e) {
            return "the unfinished copy '" + staging + "' could not be dropped (" + PgConnection.firstLine(e.getMessage())
                    + "), the next restore into '" + target + "' removes it; database '" + target + "' was not changed";
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (SQLException ignored) {
            // the session goes with the connection
        }
    }

    /** The names of every database an interrupted restore left on the server, for {@code check}. */
    public static List<String> leftovers(PgConnection connection) {
        List<String> found = new ArrayList<>();
        try (Connection c = connection.open(connection.database()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT datname FROM pg_database ORDER BY datname")) {
            while (rs.next()) {
                if (LEFTOVER.matcher(rs.getString(1)).matches()) {
                    found.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new StowageException("cannot list the databases of PostgreSQL at " + connection.host() + ":"
                    + connection.port() + ": " + PgConnection.firstLine(e.getMessage()), e);
        }
        return found;
    }

    /** Whether {@code name} is what a restore into some target left unfinished (rather than what it replaced). */
    public static boolean unfinished(String name) {
        return name.contains(RESTORING);
    }

    static boolean isLeftoverOf(String name, String target) {
        String stem = stem(target);
        return name.startsWith(stem) && SUFFIX.matcher(name.substring(stem.length())).matches();
    }

    /** The target's name, or for a long one its start and a hash of it: the staging name must fit in 63 bytes. */
    static String stem(String target) {
        if (target.length() <= STEM) {
            return target;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(target.getBytes(StandardCharsets.UTF_8));
            return target.substring(0, STEM - 9) + "_" + HexFormat.of().formatHex(hash, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hint(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("does not exist") && message.contains("role")) {
            return "; HINT: create the role on this server and restore again, or leave it out (--no-owner, "
                    + "--no-privileges)";
        }
        return "";
    }

    /** Ends the sessions in {@code database}, which a rename (like a drop) cannot go past. */
    private void terminateSessions(String database) {
        try (PreparedStatement s = session.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                + " WHERE datname = ? AND pid <> pg_backend_pid()")) {
            s.setString(1, database);
            s.executeQuery().close();
        } catch (SQLException e) {
            String reason = PgConnection.firstLine(e.getMessage());
            throw new StowageException("cannot end the sessions in database '" + database + "' to replace it: " + reason
                    + "; HINT: GRANT pg_signal_backend TO " + maintenance.user() + ", or close them and restore again",
                    e);
        }
    }

    private boolean exists(String name) {
        try (PreparedStatement s = session.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw failure("look up database '" + name + "'", e);
        }
    }

    private List<String> databases() {
        List<String> names = new ArrayList<>();
        try (Statement s = session.createStatement(); ResultSet rs = s.executeQuery("SELECT datname FROM pg_database")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw failure("list the databases", e);
        }
        return names;
    }

    /** Whether a session works in {@code name}, or is the guarding session of the restore that made it. */
    private boolean inUse(String name) {
        try (PreparedStatement s = session.prepareStatement("SELECT 1 FROM pg_stat_activity WHERE (datname = ?"
                + " OR application_name = ?) AND pid <> pg_backend_pid()")) {
            s.setString(1, name);
            s.setString(2, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw failure("look up the sessions of database '" + name + "'", e);
        }
    }

    private void execute(String sql) throws SQLException {
        try (Statement s = session.createStatement()) {
            s.execute(sql);
        }
    }

    private StowageException failure(String what, SQLException e) {
        return new StowageException("cannot " + what + " on PostgreSQL at " + maintenance.host() + ":"
                + maintenance.port() + ": " + PgConnection.firstLine(e.getMessage()), e);
    }
}
