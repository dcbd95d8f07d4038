package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.SampleDatabase;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole-database restore cut short, by SIGKILL of its process or by an interrupt of its thread, while pg_restore
 * is copying the data: the target is never left looking restored (a new target does not exist; with --force the old
 * one is untouched), what was left is named as unfinished, {@code check} reports it, and the next restore removes it.
 */
class KilledRestoreTest {
    private static final String SOURCE = "killed_restore_source";
    private static final String COPYING = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY public.noise%FROM stdin%'";
    /** While a database of this name exists, a restored copy's COPY into table gate waits (up to two minutes). */
    private static final String GATE = "krt_gate_closed";
    private static final String AT_GATE = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY public.gate%FROM stdin%'"
            + " AND datname <> '" + SOURCE + "'";
    private static ThrowawayPostgres pg;
    private static String backupId;
    private static Workspace shared;

    @BeforeAll
    static void createSourceAndBackup(@TempDir Path workspace) throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
        SampleDatabase.addRandomBytes(pg, SOURCE, 16);
        // Free in the source; in a restored copy, each row's check waits while the gate is closed: a restore can be
        // held in flight for exactly as long as a test needs. pg_database is shared, so every database sees the gate.
        pg.execute(SOURCE, "CREATE FUNCTION public.gate_open(int) RETURNS boolean LANGUAGE plpgsql AS $$"
                        + " DECLARE deadline timestamptz := clock_timestamp() + interval '2 minutes'; BEGIN"
                        + " WHILE current_database() <> '" + SOURCE + "' AND clock_timestamp() < deadline"
                        + " AND EXISTS (SELECT 1 FROM pg_database WHERE datname = '" + GATE + "') LOOP"
                        + " PERFORM pg_sleep(0.02); END LOOP; RETURN true; END $$",
                "CREATE TABLE public.gate (id int CHECK (public.gate_open(id)))", "INSERT INTO public.gate VALUES (1)");
        shared = new Workspace(workspace).job("shop", SOURCE);
        Workspace.Result backup = shared.run("backup", "shop");
        assertThat(backup.status()).as(backup.toString()).isZero();
        backupId = backup.lastLine();
    }

    @AfterAll
    static void dropSource() {
        pg.dropDatabase(SOURCE);
    }

    private static Workspace workspace() {
        return shared;
    }

    @Test
    void should_leave_no_target_after_a_sigkill_during_pg_restore_and_remove_the_leftover_on_the_next_run()
            throws Exception {
        String target = "killed_restore_new";
        pg.dropDatabase(target);
        Workspace ws = workspace();
        Set<String> before = pg.databases("killed_restore%");

        killDuringCopy(ws, "restore", "shop", "--backup", backupId, "--target-database", target);

        assertThat(pg.databaseExists(target)).as("a killed restore's target").isFalse();
        List<String> leftovers = new ArrayList<>(pg.databases("killed_restore%"));
        leftovers.removeAll(before);
        assertThat(leftovers).as("what the killed restore left").isNotEmpty()
                .allSatisfy(name -> assertThat(name).contains("stowage-restoring"));

        Workspace.Result check = ws.run("check", "shop");
        for (String leftover : leftovers) {
            assertThat(check.out()).as(check.toString()).containsPattern("WARN .*'" + leftover + "'.*unfinished restore");
        }

        Workspace.Result again = ws.run("restore", "shop", "--backup", backupId, "--target-database", target);
        assertThat(again.status()).as(again.toString()).isZero();
        for (String leftover : leftovers) {
            assertThat(again.err()).as(again.toString()).contains("warning: ").contains("'" + leftover + "'");
            assertThat(pg.databaseExists(leftover)).isFalse();
        }
        assertThat(pg.databases("killed_restore%")).isEqualTo(union(before, target));
        assertThat(SampleDatabase.contents(pg, target)).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        assertThat(pg.number("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + target + "'"
                + " AND shobj_description(oid, 'pg_database') IS NOT NULL")).as("a comment left on the target").isZero();
        pg.dropDatabase(target);
    }

    @Test
    void should_leave_the_old_target_untouched_after_a_sigkill_of_a_forced_restore() throws Exception {
        String target = "killed_restore_forced";
        pg.createDatabase(target, "CREATE TABLE precious (x int)", "INSERT INTO precious VALUES (42)");
        Workspace ws = workspace();
        Set<String> before = pg.databases("killed_restore%");

        killDuringCopy(ws, "restore", "shop", "--backup", backupId, "--target-database", target, "--force");

        Map<String, String> old = SampleDatabase.contents(pg, target);
        assertThat(old.keySet()).as("the old target's tables after a killed --force restore")
                .contains("public.precious").doesNotContain("public.noise");
        assertThat(old.get("public.precious")).isEqualTo("1 rows\n42");
        List<String> leftovers = new ArrayList<>(pg.databases("killed_restore%"));
        leftovers.removeAll(before);
        assertThat(leftovers).allSatisfy(name -> assertThat(name).contains("stowage-restoring"));

        Workspace.Result again = ws.run("restore", "shop", "--backup", backupId, "--target-database", target, "--force");
        assertThat(again.status()).as(again.toString()).isZero();
        assertThat(pg.databases("killed_restore%")).isEqualTo(before);
        assertThat(SampleDatabase.contents(pg, target)).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        pg.dropDatabase(target);
    }

    @Test
    void should_drop_the_unfinished_copy_when_the_restore_thread_is_interrupted() throws Exception {
        String target = "killed_restore_interrupted";
        pg.dropDatabase(target);
        Workspace ws = workspace();
        ws.writeConfiguration();
        Set<String> before = pg.databases("killed_restore%");
        Workspace.Result[] result = new Workspace.Result[1];
        Thread restore = new Thread(() -> {
            try {
                result[0] = ws.run("restore", "shop", "--backup", backupId, "--target-database", target);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "restore-under-test");
        restore.start();
        awaitCopy(restore::isAlive);
        restore.interrupt();
        restore.join(TimeUnit.SECONDS.toMillis(60));

        assertThat(restore.isAlive()).as("the restore thread, 60 s after its interrupt").isFalse();
        assertThat(result[0].status()).as(result[0].toString()).isEqualTo(1);
        assertThat(result[0].err()).as(result[0].toString()).startsWith("error: ").contains("interrupted");
        awaitNoCopy();
        assertThat(pg.databases("killed_restore%")).as("databases after an interrupted restore").isEqualTo(before);
    }

    @Test
    void should_refuse_a_second_restore_into_the_same_target_while_the_first_runs() throws Exception {
        String target = "killed_restore_twice";
        pg.dropDatabase(target);
        Workspace ws = workspace();
        ws.writeConfiguration();
        pg.createDatabase(GATE);
        Process first = StowageProcess.builder(ws.dir(), Map.of(), "--config",
                ws.dir().resolve("application.properties").toString(), "restore", "shop", "--backup", backupId,
                "--target-database", target).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // The first restore is in flight, and stays so until the gate opens.
            awaitCopy(first::isAlive, AT_GATE);
            Workspace.Result second = ws.run("restore", "shop", "--backup", backupId, "--target-database", target);
            assertThat(second.status()).as(second.toString()).isEqualTo(1);
            assertThat(second.err().strip()).as(second.toString())
                    .startsWith("error: another restore into database '" + target + "' is running");
            pg.dropDatabase(GATE);
            assertThat(first.waitFor(5, TimeUnit.MINUTES)).isTrue();
            assertThat(first.exitValue()).as("the first restore").isZero();
        } finally {
            pg.dropDatabase(GATE);
            first.destroyForcibly();
        }
        assertThat(SampleDatabase.contents(pg, target)).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        pg.dropDatabase(target);
    }

    /**
     * A second verification of a job while the first runs is refused: it would remove the first one's scratch
     * database under it and fail a sound backup.
     */
    @Test
    void should_refuse_a_second_verification_of_a_job_while_the_first_runs() throws Exception {
        Workspace ws = workspace();
        ws.writeConfiguration();
        pg.createDatabase(GATE);
        Process first = StowageProcess.builder(ws.dir(), Map.of(), "--config",
                ws.dir().resolve("application.properties").toString(), "verify", "shop", "--backup", backupId)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitCopy(first::isAlive, AT_GATE);
            Workspace.Result second = ws.run("verify", "shop", "--backup", backupId);
            assertThat(second.status()).as(second.toString()).isEqualTo(1);
            assertThat(second.err().strip()).as(second.toString())
                    .startsWith("error: another verification of job 'shop' is running");
            // The service's scheduled verification waits for it instead, and then passes.
            try (io.stowage.runtime.StowageService service = ws.service()) {
                java.util.concurrent.CompletableFuture<Void> scheduled = java.util.concurrent.CompletableFuture.runAsync(
                        () -> service.runtime().context().createProducerTemplate().sendBody("direct:verify-all", null));
                Thread.sleep(2000);
                assertThat(scheduled).as("the scheduled verification, while another one runs").isNotDone();
                pg.dropDatabase(GATE);
                assertThat(first.waitFor(5, TimeUnit.MINUTES)).isTrue();
                assertThat(first.exitValue()).as("the first verification").isZero();
                scheduled.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pg.dropDatabase(GATE);
            first.destroyForcibly();
        }
        List<String> verifications = new ArrayList<>();
        try (var days = java.nio.file.Files.list(ws.repository().resolve("audit"))) {
            for (Path day : days.toList()) {
                java.nio.file.Files.readAllLines(day).stream()
                        .filter(l -> l.contains("\"command\":\"verify\",\"job\":\"shop\"")).forEach(verifications::add);
            }
        }
        assertThat(verifications).as("the audit log's verifications").hasSize(3)
                .filteredOn(l -> l.contains("\"result\":\"success\"")).hasSize(2);
        Workspace.Result after = ws.run("verify", "shop", "--backup", backupId);
        assertThat(after.status()).as(after.toString()).isZero();
    }

    /** A single-table restore into a new database builds it under a staging name too: a SIGKILL leaves no target. */
    @Test
    void should_leave_no_target_after_a_sigkill_of_a_table_restore_into_a_new_database() throws Exception {
        String target = "killed_restore_table";
        pg.dropDatabase(target);
        Workspace ws = workspace();
        ws.writeConfiguration();
        Set<String> before = pg.databases("killed_restore%");
        pg.createDatabase(GATE);
        Process restore = StowageProcess.builder(ws.dir(), Map.of(), "--config",
                ws.dir().resolve("application.properties").toString(), "restore", "shop", "--backup", backupId,
                "--table", "public.gate", "--target-database", target).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitCopy(restore::isAlive, AT_GATE);
        } finally {
            restore.destroyForcibly();
            assertThat(restore.waitFor(30, TimeUnit.SECONDS)).isTrue();
            pg.dropDatabase(GATE);
        }
        awaitNoCopy();
        assertThat(pg.databaseExists(target)).as("a killed table restore's target").isFalse();
        List<String> leftovers = new ArrayList<>(pg.databases("killed_restore%"));
        leftovers.removeAll(before);
        assertThat(leftovers).as("what the killed restore left").isNotEmpty()
                .allSatisfy(name -> assertThat(name).contains("stowage-restoring"));

        Workspace.Result again = ws.run("restore", "shop", "--backup", backupId, "--table", "public.gate",
                "--target-database", target);
        assertThat(again.status()).as(again.toString()).isZero();
        assertThat(pg.databases("killed_restore%")).isEqualTo(union(before, target));
        assertThat(pg.number(target, "SELECT count(*) FROM public.gate")).isEqualTo(1);
        pg.dropDatabase(target);
    }

    @Test
    void should_remove_the_old_database_a_restore_killed_after_its_commit_left_behind() throws Exception {
        String target = "killed_restore_replaced";
        String replaced = target + "-stowage-replaced-4242";
        pg.dropDatabase(target);
        Workspace ws = workspace();
        Set<String> before = pg.databases("killed_restore%");
        // What a --force restore killed between its commit and the drop leaves: the old target, renamed aside.
        pg.execute("postgres", "CREATE DATABASE \"" + replaced + "\"");

        Workspace.Result check = ws.run("check", "shop");
        assertThat(check.out()).as(check.toString()).containsPattern("WARN .*'" + replaced + "'.*replaced");

        Workspace.Result restore = ws.run("restore", "shop", "--backup", backupId, "--target-database", target);
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.err()).contains("warning: removed database '" + replaced + "'");
        assertThat(pg.databases("killed_restore%")).isEqualTo(union(before, target));
        pg.dropDatabase(target);
    }

    /** Starts {@code args} in a process of its own and kills it (SIGKILL) while pg_restore copies the big table. */
    private static void killDuringCopy(Workspace ws, String... args) throws Exception {
        ws.writeConfiguration();
        List<String> command = new ArrayList<>(List.of("--config", ws.dir().resolve("application.properties").toString()));
        command.addAll(List.of(args));
        Process process = StowageProcess.builder(ws.dir(), Map.of(), command.toArray(String[]::new))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitCopy(process::isAlive);
        } finally {
            process.destroyForcibly();
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        // The orphaned pg_restore reads the end of its stdin and stops; its session goes with it.
        awaitNoCopy();
    }

    private static void awaitCopy(java.util.function.BooleanSupplier alive) throws Exception {
        awaitCopy(alive, COPYING);
    }

    /** Polls until {@code copying} counts a session, failing if the restore ends first or two minutes pass. */
    private static void awaitCopy(java.util.function.BooleanSupplier alive, String copying) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (pg.number("postgres", copying) == 0) {
            assertThat(alive.getAsBoolean()).as("the restore, still running before its COPY started").isTrue();
            assertThat(System.currentTimeMillis()).as("time waiting for the restore's COPY").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static void awaitNoCopy() throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (pg.number("postgres", COPYING + " OR datname LIKE '%stowage-restoring%'") > 0) {
            assertThat(System.currentTimeMillis()).as("time waiting for pg_restore to stop").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static Set<String> union(Set<String> names, String name) {
        Set<String> all = new TreeSet<>(names);
        all.add(name);
        return all;
    }

}
