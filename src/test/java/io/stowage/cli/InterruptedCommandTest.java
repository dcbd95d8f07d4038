package io.stowage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.CommandProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SIGTERM, SIGINT (Ctrl-C) and SIGHUP sent to a real {@code stowage} process in the middle of a backup, a restore or a
 * verification: it stops within seconds, stops the tool it runs, leaves nothing listed or half-restored, writes its
 * audit line, prints one {@code error:} line and exits 1.
 *
 * <p>"In the middle" is made certain, not guessed: the backup's pg_dump waits on a table lock the test holds, and
 * the restore's COPY is slowed by a CHECK constraint that sleeps per row in any database but the source.
 */
class InterruptedCommandTest {
    private static final String LOCKED = "interrupt_locked";
    private static final String SLOW = "interrupt_slow";
    /** How long a stop may take: the promise is a few seconds; the margin is for a loaded two-core machine. */
    private static final long STOP_SECONDS = 15;
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSources() {
        pg = ThrowawayPostgres.get();
        for (String name : List.of(LOCKED, SLOW)) {
            pg.createDatabase(name);
        }
        pg.execute(LOCKED, "CREATE TABLE locked (id int PRIMARY KEY, note text)",
                "INSERT INTO locked SELECT g, 'row ' || g FROM generate_series(1, 1000) g");
        // Free in the source (inserting is fast); 5 ms per row in any restored copy, so the COPY of 4000 rows lasts
        // about 20 s: longer than it takes to see it running and signal.
        pg.execute(SLOW, "CREATE FUNCTION public.slow_ok(int) RETURNS boolean LANGUAGE sql AS $$ SELECT"
                        + " current_database() = '" + SLOW + "' OR (SELECT true FROM pg_sleep(0.005)) $$",
                "CREATE TABLE slow (id int PRIMARY KEY CHECK (public.slow_ok(id)), note text)",
                "INSERT INTO slow SELECT g, 'row ' || g FROM generate_series(1, 4000) g");
    }

    @AfterAll
    static void dropSources() {
        pg.dropDatabase(LOCKED);
        pg.dropDatabase(SLOW);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TERM", "INT", "HUP"})
    void should_stop_a_backup_within_seconds_on_a_signal_and_list_nothing(String signal) throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", LOCKED);
        ws.writeConfiguration();
        try (Connection locker = pg.connect(LOCKED); Statement s = locker.createStatement()) {
            locker.setAutoCommit(false);
            s.execute("LOCK TABLE locked IN ACCESS EXCLUSIVE MODE");
            CommandProcess backup = CommandProcess.start(ws, "backup", "postgres");
            try {
                // pg_dump runs and waits for our lock: the backup is in flight, and cannot finish by itself.
                backup.await(() -> sessions(LOCKED, "wait_event_type = 'Lock'") > 0, "pg_dump waiting on the lock");
                List<ProcessHandle> tools = backup.process().descendants().toList();
                assertThat(tools).as("pg_dump runs as a child").isNotEmpty();

                backup.signal(signal);
                CommandProcess.Finished finished = stopped(backup);

                assertThat(finished.status()).as(finished.toString()).isEqualTo(1);
                assertThat(finished.out()).as("no backup id printed").isEmpty();
                assertThat(finished.errLines()).as(finished.toString()).hasSize(1);
                assertThat(finished.err()).startsWith("error: backup of job 'postgres' failed: ")
                        .contains("interrupted by SIG" + signal);
                assertThat(tools).as("pg_dump stopped with the command").noneMatch(ProcessHandle::isAlive);
            } finally {
                backup.kill();
            }
            locker.rollback();
        }
        awaitNoSession(LOCKED);
        JsonNode audit = lastAudit(ws, "backup");
        assertThat(audit.get("result").asText()).isEqualTo("failure");
        assertThat(audit.get("error").asText()).contains("interrupted by SIG" + signal);
        assertThat(ManifestCodec.JSON.readTree(ws.run("list", "--json").out())).isEmpty();
        try (Stream<Path> files = Files.walk(ws.repository().resolve("postgres"))) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
    }

    @Test
    void should_stop_a_restore_within_seconds_on_sigterm_and_leave_no_database_behind() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SLOW);
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        Set<String> before = pg.databases("%");

        CommandProcess restore = CommandProcess.start(ws, "restore", "postgres", "--target-database", "interrupt_copy");
        try {
            restore.await(() -> sessions(null, "query LIKE 'COPY %slow%' AND state = 'active'") > 0,
                    "pg_restore copying the slow table");
            List<ProcessHandle> tools = restore.process().descendants().toList();
            restore.signal("TERM");
            CommandProcess.Finished finished = stopped(restore);

            assertThat(finished.status()).as(finished.toString()).isEqualTo(1);
            assertThat(finished.out()).isEmpty();
            assertThat(finished.errLines()).as(finished.toString()).hasSize(1);
            assertThat(finished.err()).startsWith("error: ").contains("interrupted by SIGTERM")
                    .contains("interrupt_copy");
            assertThat(tools).as("pg_restore stopped with the command").noneMatch(ProcessHandle::isAlive);
        } finally {
            restore.kill();
        }
        assertThat(pg.databases("%")).as("the partial database is gone, under any name").isEqualTo(before);
        JsonNode audit = lastAudit(ws, "restore");
        assertThat(audit.get("result").asText()).isEqualTo("failure");
        assertThat(audit.get("error").asText()).contains("interrupted by SIGTERM");
    }

    @Test
    void should_stop_a_verification_within_seconds_on_sigint_and_drop_its_scratch_database() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SLOW);
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        Set<String> before = pg.databases("%");

        CommandProcess verify = CommandProcess.start(ws, "verify", "postgres");
        try {
            verify.await(() -> sessions(null, "query LIKE 'COPY %slow%' AND state = 'active'") > 0,
                    "the verification's restore copying the slow table");
            verify.signal("INT");
            CommandProcess.Finished finished = stopped(verify);

            assertThat(finished.status()).as(finished.toString()).isEqualTo(1);
            assertThat(finished.out()).isEmpty();
            assertThat(finished.errLines()).as(finished.toString()).hasSize(1);
            assertThat(finished.err()).startsWith("error: ").contains("interrupted by SIGINT");
        } finally {
            verify.kill();
        }
        assertThat(pg.databases("%")).as("the scratch database is dropped").isEqualTo(before);
        JsonNode audit = lastAudit(ws, "verify");
        assertThat(audit.get("result").asText()).isEqualTo("failure");
        assertThat(audit.get("error").asText()).contains("interrupted by SIGINT");
        assertThat(ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0).get("verified").isNull())
                .isTrue();
    }

    @Test
    void should_exit_at_the_stop_limit_when_a_command_cannot_stop_and_say_so() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", LOCKED);
        assertThat(ws.run("backup", "postgres").status()).isZero();
        try (Connection locker = pg.connect("postgres"); Statement s = locker.createStatement()) {
            // New connections wait for this lock while they start: the restore hangs in a place no stop reaches.
            locker.setAutoCommit(false);
            s.execute("LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE");
            CommandProcess restore = CommandProcess.start(ws, "restore", "postgres", "--target-database",
                    "interrupt_stuck");
            try {
                restore.await(() -> waitingOnLocks(locker) > 0, "the restore's connection waiting");
                restore.signal("TERM");
                CommandProcess.Finished finished = restore.awaitExit(STOP_SECONDS + 15);
                assertThat(finished).as("ended by the stop limit: " + restore.output()).isNotNull();
                assertThat(finished.status()).as(finished.toString()).isEqualTo(1);
                assertThat(finished.errLines()).as(finished.toString()).hasSize(1);
                assertThat(finished.err()).startsWith("error: restore of job 'postgres' interrupted by SIGTERM, and "
                        + "stopping took longer than 15 s: stopped at once");
                assertThat(finished.seconds()).as(finished.toString()).isGreaterThan(10);
            } finally {
                restore.kill();
                locker.rollback();
            }
        }
        assertThat(pg.databaseExists("interrupt_stuck")).isFalse();
    }

    @Test
    void should_exit_at_once_on_a_second_signal() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", LOCKED);
        assertThat(ws.run("backup", "postgres").status()).isZero();
        try (Connection locker = pg.connect("postgres"); Statement s = locker.createStatement()) {
            locker.setAutoCommit(false);
            s.execute("LOCK TABLE pg_catalog.pg_database IN ACCESS EXCLUSIVE MODE");
            CommandProcess restore = CommandProcess.start(ws, "restore", "postgres", "--target-database",
                    "interrupt_stuck");
            try {
                restore.await(() -> waitingOnLocks(locker) > 0, "the restore's connection waiting");
                restore.signal("TERM");
                restore.signal("INT");
                CommandProcess.Finished finished = restore.awaitExit(5);
                assertThat(finished).as("ended at the second signal: " + restore.output()).isNotNull();
                assertThat(finished.status()).as(finished.toString()).isEqualTo(1);
                assertThat(finished.errLines()).as(finished.toString()).hasSize(1);
                assertThat(finished.err()).startsWith("error: restore of job 'postgres' interrupted again by SIG")
                        .contains("stopped at once, without cleaning up");
            } finally {
                restore.kill();
                locker.rollback();
            }
        }
    }

    /**
     * Connections waiting for pg_database's lock while they start (not yet in pg_stat_activity), seen from the session
     * that holds it (no new connection could look); the autovacuum processes, which wait for it too, are left out.
     */
    private static long waitingOnLocks(Connection locker) {
        try (var s = locker.createStatement(); var rs = s.executeQuery("SELECT count(*) FROM pg_locks l"
                + " WHERE NOT l.granted AND l.locktype = 'relation' AND l.relation = 1262 AND l.pid NOT IN"
                + " (SELECT pid FROM pg_stat_get_activity(NULL) WHERE backend_type <> 'client backend')")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits for the command to end after a signal; it must within {@link #STOP_SECONDS}. */
    private static CommandProcess.Finished stopped(CommandProcess command) throws Exception {
        CommandProcess.Finished finished = command.awaitExit(STOP_SECONDS);
        assertThat(finished).as("stopped within " + STOP_SECONDS + " s of the signal; so far:\n" + command.output())
                .isNotNull();
        return finished;
    }

    /** Sessions of the test cluster matching {@code where}, in {@code database} (any when null), but this one. */
    private static long sessions(String database, String where) {
        try (Connection c = pg.connect("postgres"); var s = c.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                + " WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND (? IS NULL OR datname = ?)"
                + " AND " + where)) {
            s.setString(1, database);
            s.setString(2, database);
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitNoSession(String database) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (sessions(database, "true") > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(sessions(database, "true")).as("sessions left in " + database).isZero();
    }

    /** The last audit line of {@code command}. */
    private static JsonNode lastAudit(Workspace ws, String command) throws Exception {
        Path audit = ws.repository().resolve("audit");
        JsonNode last = null;
        try (Stream<Path> files = Files.list(audit)) {
            for (Path file : files.sorted().toList()) {
                for (String line : Files.readAllLines(file)) {
                    JsonNode json = ManifestCodec.JSON.readTree(line);
                    if (json.get("command").asText().equals(command)) {
                        last = json;
                    }
                }
            }
        }
        assertThat(last).as("an audit line for " + command).isNotNull();
        return last;
    }
}
