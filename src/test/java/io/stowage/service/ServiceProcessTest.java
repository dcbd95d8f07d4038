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

/** {@code stowage run} as its own process: Quartz fires the schedule, and SIGTERM stops it with nothing half-written. */
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
