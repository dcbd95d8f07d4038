package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stowage run} as its own process: Quartz fires the schedule, SIGTERM or SIGINT stops it with nothing
 * half-written and exit status 0, one service per local repository, and a start that cannot work is one line.
 */
class ServiceProcessTest {
    private static final String SOURCE = "service_process_source";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
        SampleDatabase.addRandomBytes(pg, SOURCE, 32);
    }

    @AfterAll
    static void dropSource() {
        pg.dropDatabase(SOURCE);
    }

    @Test
    void should_back_up_on_schedule_and_stop_cleanly_on_sigterm_during_a_backup() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                .schedule("postgres", "full", "0/3 * * * * ?")
                .property("camel.main.shutdown-timeout", "60")
                .property("stowage.staleness.first-check-ms", "3600000");
        Path config = ws.writeConfiguration();
        Path log = dir.resolve("service.log");
        Process service = StowageProcess.builder(dir, Map.of(), "--config", config.toString(), "run")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // Quartz fires: a complete backup appears without any command.
            long deadline = System.currentTimeMillis() + 60_000;
            while (complete(ws) < 1 && System.currentTimeMillis() < deadline && service.isAlive()) {
                Thread.sleep(100);
            }
            assertThat(complete(ws)).as(Files.readString(log)).isGreaterThanOrEqualTo(1);

            // SIGTERM while the next backup is being written.
            while (!writing(ws) && System.currentTimeMillis() < deadline && service.isAlive()) {
                Thread.sleep(5);
            }
            assertThat(writing(ws)).as("a backup in flight").isTrue();
            service.destroy();
            assertThat(service.waitFor(90, TimeUnit.SECONDS)).isTrue();
        } finally {
            service.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(service.exitValue()).as(output).isZero();
        assertThat(output).contains("stopping: in-flight backups get up to 60 s to finish").contains("stopped")
                .doesNotContain("Exception");
        // The in-flight backup was given its time: it finished, and everything listed is complete.
        JsonNode listed = ManifestCodec.JSON.readTree(ws.run("list", "--json").out());
        assertThat(listed.size()).isGreaterThanOrEqualTo(2);
        for (JsonNode entry : listed) {
            Path object = ws.repository().resolve("postgres").resolve(entry.get("id").asText()).resolve("dump.pgfc.zst");
            assertThat(Files.size(object)).isEqualTo(entry.get("storedBytes").asLong());
        }
        assertThat(writing(ws)).isFalse();
        try (Stream<Path> lines = Files.list(ws.repository().resolve("audit"))) {
            String audit = Files.readString(lines.findFirst().orElseThrow());
            assertThat(audit).contains("\"command\":\"service-start\"").contains("\"command\":\"service-stop\"")
                    .contains("\"command\":\"backup\"");
        }
    }

    @Test
    void should_refuse_a_second_service_on_the_same_configuration_and_exit_0_when_stopped() throws Exception {
        int port = ThrowawayPostgres.freePort();
        Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                .property("camel.management.enabled", "true")
                .property("camel.management.port", Integer.toString(port))
                .property("camel.management.health-check-enabled", "true")
                .property("stowage.staleness.first-check-ms", "3600000");
        Path config = ws.writeConfiguration();
        Process first = startService(config, dir.resolve("first.log"));
        Process third = null;
        try {
            awaitStarted(first, dir.resolve("first.log"));

            // The same configuration again: refused at once, naming the one that runs.
            Workspace.Result second = run(config, 90);
            assertThat(second.status()).as(second.toString()).isEqualTo(1);
            assertThat(second.err().strip().lines()).as(second.toString()).hasSize(1);
            assertThat(second.err()).startsWith("error: another stowage service (pid " + first.pid() + ", started ")
                    .contains("is running on local repository " + ws.repository().toRealPath())
                    .contains("; HINT: ").doesNotContain("Exception");
            // The first is unharmed: its management server answers.
            assertThat(health(port)).startsWith("200");

            first.destroy(); // SIGTERM
            assertThat(first.waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(first.exitValue()).as(Files.readString(dir.resolve("first.log"))).isZero();
            assertThat(audit(ws)).contains("\"command\":\"service-stop\",\"job\":null,\"backupId\":null,"
                    + "\"result\":\"success\"");

            // Its lock went with it: a service starts right away, and Ctrl-C (SIGINT) stops it cleanly too.
            third = startService(config, dir.resolve("third.log"));
            awaitStarted(third, dir.resolve("third.log"));
            Process interrupt = new ProcessBuilder("kill", "-INT", Long.toString(third.pid())).start();
            assertThat(interrupt.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(third.waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(third.exitValue()).as(Files.readString(dir.resolve("third.log"))).isZero();
            assertThat(Files.readString(dir.resolve("third.log"))).contains("stopped").doesNotContain("Exception");
        } finally {
            first.destroyForcibly();
            if (third != null) {
                third.destroyForcibly();
            }
        }
    }

    @Test
    void should_stop_cleanly_and_exit_0_on_sighup_even_while_it_starts() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                .property("stowage.staleness.first-check-ms", "3600000");
        Path config = ws.writeConfiguration();
        Path log = dir.resolve("service.log");
        // As a terminal starts it: SIGHUP not ignored (an ignored one, under nohup, stays ignored).
        ProcessBuilder builder = StowageProcess.builder(dir, Map.of(), "--config", config.toString(), "run")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.command().addAll(0, java.util.List.of("env", "--default-signal=HUP"));
        Process service = builder.start();
        try {
            // The terminal goes away while Camel is still starting: the service has just taken its lock.
            Path lock = ws.repository().resolve(".service.lock");
            long deadline = System.currentTimeMillis() + 90_000;
            while (!(Files.exists(lock) && Files.readString(lock).contains("pid=" + service.pid()))
                    && service.isAlive() && System.currentTimeMillis() < deadline) {
                Thread.sleep(5);
            }
            assertThat(Files.readString(lock)).as(Files.readString(log)).contains("pid=" + service.pid());
            Process hangUp = new ProcessBuilder("kill", "-HUP", Long.toString(service.pid())).start();
            assertThat(hangUp.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(service.waitFor(90, TimeUnit.SECONDS)).isTrue();
        } finally {
            service.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(service.exitValue()).as(output).isZero();
        assertThat(output).contains("stopped").doesNotContain("Exception");
        assertThat(audit(ws)).contains("\"command\":\"service-start\"").contains("\"command\":\"service-stop\","
                + "\"job\":null,\"backupId\":null,\"result\":\"success\"");
    }

    @Test
    void should_refuse_to_start_in_one_line_when_the_management_port_is_taken() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                    .property("camel.management.enabled", "true")
                    .property("camel.management.host", "127.0.0.1")
                    .property("camel.management.port", Integer.toString(taken.getLocalPort()));
            Path config = ws.writeConfiguration();
            Workspace.Result result = run(config, 90);
            assertThat(result.status()).as(result.toString()).isEqualTo(2);
            assertThat(result.err().strip().lines()).as(result.toString()).hasSize(1);
            assertThat(result.err()).startsWith("error: cannot listen on 127.0.0.1:"
                    + taken.getLocalPort() + " for health and metrics: address already in use; HINT: ");
        }
    }

    @Test
    void should_exit_1_when_stopping_cuts_a_backup_short() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                .schedule("postgres", "full", "0/2 * * * * ?")
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()))
                .property("camel.main.shutdown-timeout", "1")
                .property("stowage.staleness.first-check-ms", "3600000");
        Path config = ws.writeConfiguration();
        Path log = dir.resolve("service.log");
        Process service;
        // The table is locked, so the scheduled backup's pg_dump waits and cannot finish within the timeout.
        try (java.sql.Connection blocker = pg.connect(SOURCE)) {
            blocker.setAutoCommit(false);
            try (java.sql.Statement s = blocker.createStatement()) {
                s.execute("LOCK TABLE public.kinds IN ACCESS EXCLUSIVE MODE");
            }
            service = startService(config, log);
            try {
                long deadline = System.currentTimeMillis() + 90_000;
                while (waitingBackups() == 0 && service.isAlive() && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(waitingBackups()).as(Files.readString(log)).isEqualTo(1);
                java.util.List<ProcessHandle> tools = service.descendants().toList();
                assertThat(tools).as("pg_dump, waiting for the table").isNotEmpty();
                service.destroy();
                assertThat(service.waitFor(90, TimeUnit.SECONDS)).isTrue();
                // Still while the table is locked: a pg_dump left behind would wait for it, and then go on dumping.
                long gone = System.currentTimeMillis() + 10_000;
                while (tools.stream().anyMatch(ProcessHandle::isAlive) && System.currentTimeMillis() < gone) {
                    Thread.sleep(50);
                }
                assertThat(tools).as("tools the service started, after it exited").noneMatch(ProcessHandle::isAlive);
            } finally {
                service.descendants().forEach(ProcessHandle::destroyForcibly);
                service.destroyForcibly();
            }
        }
        String output = Files.readString(log);
        assertThat(service.exitValue()).as(output).isEqualTo(1);
        assertThat(output).containsPattern("(?m)^error: the service stopped before .*; HINT: ");
        assertThat(audit(ws)).contains("\"command\":\"service-stop\",\"job\":null,\"backupId\":null,"
                + "\"result\":\"failure\"");
        // Nothing half-written is listed.
        assertThat(ManifestCodec.JSON.readTree(ws.run("list", "--json").out())).isEmpty();
    }

    private Process startService(Path config, Path log) throws Exception {
        return StowageProcess.builder(dir, Map.of(), "--config", config.toString(), "run")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static void awaitStarted(Process service, Path log) throws Exception {
        long deadline = System.currentTimeMillis() + 90_000;
        while (!Files.readString(log).contains("stowage started") && service.isAlive()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(log)).contains("stowage started");
    }

    /** {@code stowage run} expected to end by itself within {@code seconds}. */
    private Workspace.Result run(Path config, int seconds) throws Exception {
        Path out = dir.resolve("run.out");
        Path err = dir.resolve("run.err");
        Process process = StowageProcess.builder(dir, Map.of(), "--config", config.toString(), "run")
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            assertThat(process.waitFor(seconds, TimeUnit.SECONDS)).as(Files.readString(err)).isTrue();
        } finally {
            process.destroyForcibly();
        }
        return new Workspace.Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static String health(int port) throws Exception {
        return io.stowage.testing.ManagementClient.get(port, "/observe/health");
    }

    private static String audit(Workspace ws) throws Exception {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(ws.repository().resolve("audit"))) {
            for (Path file : files.toList()) {
                all.append(Files.readString(file));
            }
        }
        return all.toString();
    }

    /** Stowage's sessions (pg_dump's: PGAPPNAME is stowage) waiting for a lock in the source database. */
    private static int waitingBackups() throws Exception {
        try (java.sql.Connection c = pg.connect("postgres"); java.sql.Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a"
                     + " ON a.pid = l.pid WHERE NOT l.granted AND a.datname = '" + SOURCE + "'"
                     + " AND a.application_name = 'stowage'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static long complete(Workspace ws) throws Exception {
        Path job = ws.repository().resolve("postgres");
        if (!Files.isDirectory(job)) {
            return 0;
        }
        try (Stream<Path> backups = Files.list(job)) {
            return backups.filter(b -> Files.exists(b.resolve("manifest.json"))).count();
        }
    }

    private static boolean writing(Workspace ws) {
        Path job = ws.repository().resolve("postgres");
        if (!Files.isDirectory(job)) {
            return false;
        }
        try (Stream<Path> paths = Files.walk(job)) {
            return paths.anyMatch(p -> p.getFileName().toString().contains(".tmp-"));
        } catch (Exception e) {
            return false;
        }
    }
}
