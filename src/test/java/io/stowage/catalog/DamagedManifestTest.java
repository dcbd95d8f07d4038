package io.stowage.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged manifest among five backups, through the commands an operator runs: {@code list} and {@code restore}
 * lose only that backup and say so, {@code check} fails naming it, and {@code restore --backup latest} refuses rather
 * than restore an older backup when the newest one is the damaged one.
 */
class DamagedManifestTest {
    private static final String SOURCE = "damaged_manifest_source";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() {
        pg = ThrowawayPostgres.get();
        pg.createDatabase(SOURCE, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 10)");
    }

    @AfterEach
    void dropTargets() {
        pg.dropDatabase("damaged_manifest_copy");
        pg.dropDatabase("damaged_manifest_older");
    }

    /**
     * One real backup, and four more made from it under later ids (the same dump, manifests rewritten): five complete
     * backups, oldest first, without waiting for five clock seconds.
     */
    private List<String> fiveBackups(Workspace ws) throws Exception {
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String first = backup.lastLine();
        Path job = ws.repository().resolve("postgres");
        JsonNode manifest = ManifestCodec.JSON.readTree(job.resolve(first).resolve("manifest.json").toFile());
        List<String> ids = new ArrayList<>(List.of(first));
        for (int i = 1; i < 5; i++) {
            Instant started = Instant.parse(manifest.get("started").asText()).plus(Duration.ofMinutes(i));
            String id = BackupId.of(started, BackupType.FULL);
            Path copy = Files.createDirectory(job.resolve(id));
            Files.copy(job.resolve(first).resolve("dump.pgfc.zst"), copy.resolve("dump.pgfc.zst"));
            ObjectNode later = manifest.deepCopy();
            later.put("id", id);
            later.put("started", started.toString());
            later.put("finished", started.plusSeconds(1).toString());
            Files.write(copy.resolve("manifest.json"), ManifestCodec.JSON.writeValueAsBytes(later));
            ids.add(id);
        }
        return ids;
    }

    private static Path manifest(Workspace ws, String id) {
        return ws.repository().resolve("postgres").resolve(id).resolve("manifest.json");
    }

    @Test
    void should_hide_only_the_backup_whose_manifest_is_damaged_and_refuse_latest_when_it_is_the_newest()
            throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE);
        List<String> ids = fiveBackups(ws);
        Path second = manifest(ws, ids.get(1));
        byte[] bytes = Files.readAllBytes(second);
        Files.write(second, java.util.Arrays.copyOf(bytes, bytes.length / 2));

        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        List<String> listed = new ArrayList<>();
        ManifestCodec.JSON.readTree(list.out()).forEach(e -> listed.add(e.get("id").asText()));
        assertThat(listed).containsExactly(ids.get(0), ids.get(2), ids.get(3), ids.get(4));
        assertThat(list.err()).startsWith("warning: backup " + ids.get(1) + " of job 'postgres' skipped in repository "
                + "'local': manifest 'postgres/" + ids.get(1) + "/manifest.json' is not valid JSON")
                .doesNotContain("repository 'local' skipped");
        assertThat(list.err().lines()).hasSize(1);

        Workspace.Result check = ws.run("check", "postgres");
        assertThat(check.status()).as(check.toString()).isEqualTo(1);
        assertThat(check.out()).contains("FAIL  backup " + ids.get(1) + " of job postgres in repository local: manifest "
                + "'postgres/" + ids.get(1) + "/manifest.json' is not valid JSON");
        assertThat(check.err()).contains("error: check found problems");

        Workspace.Result restore = ws.run("restore", "postgres", "--backup", "latest", "--target-database",
                "damaged_manifest_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).startsWith("restored backup " + ids.get(4) + " ");

        // The newest backup's manifest is of a version this Stowage does not know: latest is refused, with the way on.
        Path newest = manifest(ws, ids.get(4));
        Files.writeString(newest, Files.readString(newest).replace("\"formatVersion\" : 2", "\"formatVersion\" : 99"));
        Workspace.Result refused = ws.run("restore", "postgres", "--backup", "latest", "--target-database",
                "damaged_manifest_older");
        assertThat(refused.status()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.err()).contains("error: the newest backup of job 'postgres', " + ids.get(4) + ", cannot be "
                + "read in repository 'local': manifest 'postgres/" + ids.get(4) + "/manifest.json' has format version 99")
                .contains("HINT: restore the newest readable one with --backup " + ids.get(3));
        assertThat(pg.databaseExists("damaged_manifest_older")).isFalse();
        Workspace.Result older = ws.run("restore", "postgres", "--backup", ids.get(3), "--target-database",
                "damaged_manifest_older");
        assertThat(older.status()).as(older.toString()).isZero();
        assertThat(older.out()).startsWith("restored backup " + ids.get(3) + " ");
    }
}
