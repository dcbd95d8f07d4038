package io.stowage.engine.postgresql;

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

/** A backup process killed (SIGKILL) at any moment: nothing half-written is listed, and the next run cleans up. */
class KilledBackupTest {
    private static final String SOURCE = "killed_source";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
        SampleDatabase.addRandomBytes(pg, SOURCE, 48);
    }

    @AfterAll
    static void dropSource() {
        pg.dropDatabase(SOURCE);
    }

    @Test
    void should_never_list_a_backup_killed_mid_write_and_clean_up_on_the_next_run() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE);
        ws.run("list"); // writes application.properties for the child processes

        // Killed while the dump is being written: the moment its temporary file appears.
        killWhen(ws, () -> temporaryFiles(ws) > 0, 60_000);
        assertThat(list(ws)).isEmpty();

        // Killed at a few other moments: during start-up, connection, and later in the write.
        for (long delay : new long[] {200, 900, 1600}) {
            long deadline = System.currentTimeMillis() + delay;
            killWhen(ws, () -> System.currentTimeMillis() >= deadline, 60_000);
            JsonNode listed = list(ws);
            for (JsonNode entry : listed) {
                Path object = ws.repository().resolve("postgres").resolve(entry.get("id").asText())
                        .resolve("dump.pgfc.zst");
                assertThat(Files.size(object)).isEqualTo(entry.get("storedBytes").asLong());
            }
        }

        // A backup whose data is stored but whose manifest was never written: invisible, then removed.
        Workspace.Result complete = ws.run("backup", "postgres");
        assertThat(complete.status()).as(complete.toString()).isZero();
        String id = complete.lastLine();
        int listedBefore = list(ws).size();
        Path orphan = ws.repository().resolve("postgres/20200101T000000Z-F");
        Files.createDirectories(orphan);
        Files.copy(ws.repository().resolve("postgres").resolve(id).resolve("dump.pgfc.zst"), orphan.resolve("dump.pgfc.zst"));
        assertThat(list(ws)).hasSize(listedBefore);

        Workspace.Result next = ws.run("backup", "postgres");
        assertThat(next.status()).as(next.toString()).isZero();
        assertThat(orphan).doesNotExist();
        assertThat(temporaryFiles(ws)).isZero();
        try (Stream<Path> backups = Files.list(ws.repository().resolve("postgres"))) {
            for (Path backup : backups.filter(Files::isDirectory).toList()) {
                assertThat(backup.resolve("manifest.json")).as("complete " + backup).exists();
            }
        }
        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "killed_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(SampleDatabase.contents(pg, "killed_copy")).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        pg.dropDatabase("killed_copy");
    }

    private void killWhen(Workspace ws, java.util.function.BooleanSupplier condition, long timeoutMillis)
            throws Exception {
        Process process = StowageProcess.builder(ws.dir(), Map.of(), "--config",
                ws.dir().resolve("application.properties").toString(), "backup", "postgres")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (!condition.getAsBoolean() && process.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        process.destroyForcibly();
        // SIGKILL leaves pg_dump orphaned; it dies of a broken pipe on its next write.
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    private static long temporaryFiles(Workspace ws) {
        Path job = ws.repository().resolve("postgres");
        if (!Files.exists(job)) {
            return 0;
        }
        try (Stream<Path> paths = Files.walk(job)) {
            return paths.filter(p -> p.getFileName().toString().contains(".tmp-")).count();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return 0; // a file vanished while walking: look again
        }
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }
}
