package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.StowageException;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.StowageService;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Never two backups of a job at once, whoever starts them: the service, a command in the same JVM, another process.
 * A backup is held in flight without any timing guess: the test locks a table of the source, so pg_dump waits on it
 * (seen in pg_locks) until the test lets it go.
 */
class OneBackupAtATimeTest {
    private static final String SOURCE = "one_at_a_time_source";
    private static final String REFUSED = "error: backup of job 'postgres' failed: a backup of job 'postgres' is"
            + " already running; HINT: wait for it to finish";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    private StowageService service;
    private final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void createSource() {
        pg = ThrowawayPostgres.get();
        pg.createDatabase(SOURCE, "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void dropSource() {
        pg.dropDatabase(SOURCE);
    }

    @AfterEach
    void stop() throws Exception {
        for (Process process : processes) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
        if (service != null) {
            service.close();
        }
    }

    private Workspace workspace() throws Exception {
        return new Workspace(dir).job("postgres", SOURCE)
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()))
                .property("stowage.staleness.first-check-ms", "3600000");
    }

    @Test
    void should_refuse_a_backup_command_while_the_service_backs_up_the_job_and_let_the_running_backup_finish()
            throws Exception {
        Workspace ws = workspace();
        service = ws.service();
        CompletableFuture<Exchange> first;
        CompletableFuture<Exchange> second;
        try (Connection blocker = lockTable()) {
            first = scheduled();
            await(() -> waitingDumps() == 1, "the service's backup waits on the locked table");
            // Another scheduled backup of the job waits for the running one instead of failing or overlapping.
            second = scheduled();

            Workspace.Result inProcess = ws.run("backup", "postgres");
            assertThat(inProcess.status()).as(inProcess.toString()).isEqualTo(1);
            assertThat(inProcess.err()).isEqualTo(REFUSED + "\n");

            Path out = dir.resolve("other.out");
            Path err = dir.resolve("other.err");
            Process other = start(ws, out, err, "backup", "postgres");
            // Refused, it exits; let in, its pg_dump would queue on the table too.
            await(() -> !other.isAlive() || waitingDumps() >= 2, "the other process is refused or let in");
            blocker.rollback();
            assertThat(other.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(other.exitValue()).as(Files.readString(out) + Files.readString(err)).isEqualTo(1);
            assertThat(lastLine(err)).isEqualTo(REFUSED);
        }
        Exchange done = first.get(120, TimeUnit.SECONDS);
        assertThat(done.getException()).isNull();
        Exchange after = second.get(120, TimeUnit.SECONDS);
        assertThat(after.getException()).isNull();

        JsonNode listed = list(ws);
        assertThat(listed).hasSize(2);
        for (JsonNode entry : listed) {
            Path object = ws.repository().resolve("postgres").resolve(entry.get("id").asText()).resolve("dump.pgfc.zst");
            assertThat(Files.size(object)).isEqualTo(entry.get("storedBytes").asLong());
        }
    }

    @Test
    void should_let_only_one_of_two_processes_racing_a_backup_of_a_job_run_it() throws Exception {
        Workspace ws = workspace();
        ws.writeConfiguration();
        Process a;
        Process b;
        try (Connection blocker = lockTable()) {
            a = start(ws, dir.resolve("a.out"), dir.resolve("a.err"), "backup", "postgres");
            b = start(ws, dir.resolve("b.out"), dir.resolve("b.err"), "backup", "postgres");
            await(() -> (!a.isAlive() || !b.isAlive()) && waitingDumps() == 1, "one refused, one dumping");
            assertThat(a.isAlive() && b.isAlive()).isFalse();
            String refused = a.isAlive() ? "b" : "a";
            Process loser = a.isAlive() ? b : a;
            assertThat(loser.exitValue()).isEqualTo(1);
            assertThat(lastLine(dir.resolve(refused + ".err"))).isEqualTo(REFUSED);
            blocker.rollback();
        }
        Process winner = a.isAlive() || a.exitValue() == 0 ? a : b;
        String name = winner == a ? "a" : "b";
        assertThat(winner.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(winner.exitValue()).as(Files.readString(dir.resolve(name + ".err"))).isZero();
        List<String> lines = Files.readAllLines(dir.resolve(name + ".out"));
        String id = lines.get(lines.size() - 1);

        JsonNode listed = list(ws);
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).get("id").asText()).isEqualTo(id);
        Path object = ws.repository().resolve("postgres").resolve(id).resolve("dump.pgfc.zst");
        assertThat(Files.size(object)).isEqualTo(listed.get(0).get("storedBytes").asLong());
    }

    @Test
    void should_refuse_a_second_service_on_the_same_local_repository_in_this_jvm() throws Exception {
        Workspace ws = workspace();
        service = ws.service();
        StowageService second = null;
        try {
            Throwable refused = null;
            try {
                second = ws.service();
            } catch (StowageException e) {
                refused = e;
            }
            assertThat(refused).isNotNull();
            assertThat(refused.getMessage()).startsWith("another stowage service (pid " + ProcessHandle.current().pid())
                    .contains(ws.repository().toString()).contains("HINT:");
            assertThat(((StowageException) refused).exitCode()).isEqualTo(1);
        } finally {
            if (second != null) {
                second.close();
            }
        }
        // Once the first stops, a service can start on the repository again.
        service.close();
        service = null;
        service = ws.service();
        assertThatThrownBy(ws::service).isInstanceOf(StowageException.class);
    }

    private CompletableFuture<Exchange> scheduled() {
        return CompletableFuture.supplyAsync(() -> service.runtime().context().createProducerTemplate()
                .send("direct:run-backup", exchange -> {
                    exchange.getIn().setHeader("StowageJob", "postgres");
                    exchange.getIn().setHeader("StowageBackupType", "full");
                    exchange.getIn().setHeader("StowageTrigger", "schedule");
                }));
    }

    private Process start(Workspace ws, Path out, Path err, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--config", ws.dir().resolve("application.properties").toString()));
        all.addAll(List.of(args));
        Process process = StowageProcess.builder(ws.dir(), Map.of(), all.toArray(String[]::new))
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        processes.add(process);
        return process;
    }

    /** A transaction holding an exclusive lock on the source's table: pg_dump waits for it. */
    private static Connection lockTable() throws Exception {
        Connection connection = pg.connect(SOURCE);
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
            s.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE");
        }
        return connection;
    }

    /** Stowage's sessions (pg_dump's: PGAPPNAME is stowage) waiting for a lock in the source database. */
    private static int waitingDumps() {
        try (Connection c = pg.connect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                     + " WHERE NOT l.granted AND a.datname = '" + SOURCE + "' AND a.application_name = 'stowage'")) {
            rs.next();
            return rs.getInt(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (!condition.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as("waiting for: " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static String lastLine(Path file) throws Exception {
        List<String> lines = Files.readAllLines(file);
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }
}
