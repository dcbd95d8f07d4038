package io.stowage.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.BackupHistory;
import io.stowage.testing.CommandProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stowage expire} killed (SIGKILL) part-way through many backups: nothing listed is missing an object, and the
 * next run finishes, removing what the killed one left half-deleted. The backups are copies of a real one dated back
 * (BackupHistory), each with many small objects so that deleting them takes long enough to be interrupted. Their ids
 * are days old, older than {@code stowage.expire.incomplete-after-hours = 1}, so what a killed expiry leaves of them
 * is an orphan at once; a directory without manifest younger than that is a backup that may still be written, and
 * stays.
 */
class KilledExpiryTest {
    private static final String SOURCE = "killed_expiry_source";
    private static final String JOB = "postgres";
    private static final int BACKUPS = 120;
    private static final int OBJECTS = 250;

    @TempDir
    Path dir;

    @AfterAll
    static void dropSource() {
        ThrowawayPostgres.get().dropDatabase(SOURCE);
    }

    @Test
    void should_list_nothing_broken_after_a_killed_expiry_and_finish_on_the_next_run() throws Exception {
        ThrowawayPostgres.get().createDatabase(SOURCE, "CREATE TABLE t (id int PRIMARY KEY)",
                "INSERT INTO t SELECT generate_series(1, 100)");
        Workspace seed = new Workspace(dir.resolve("seed")).job(JOB, SOURCE);
        Workspace.Result backup = seed.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isZero();
        Path real = seed.repository().resolve(JOB).resolve(backup.lastLine());

        Workspace ws = new Workspace(dir.resolve("ws")).job(JOB, SOURCE, "retention", "2")
                .property("stowage.expire.incomplete-after-hours", "1");
        Path repo = ws.repository();
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        List<String> ids = new ArrayList<>();
        for (int i = BACKUPS; i > 0; i--) {
            String id = BackupHistory.copy(real, repo, JOB, now.minus(Duration.ofDays(i)), BackupType.FULL, null);
            BackupHistory.addObjects(repo, JOB, id, OBJECTS, 64);
            ids.add(id);
        }
        // An interrupted backup of long ago, and one that may still be running (started ten minutes ago).
        String old = "20200101T000000Z-F";
        String young = BackupId.of(now.minus(Duration.ofMinutes(10)), BackupType.FULL);
        for (String orphan : List.of(old, young)) {
            Files.createDirectories(repo.resolve(JOB).resolve(orphan));
            Files.writeString(repo.resolve(JOB).resolve(orphan).resolve("dump.pgfc.zst"), "no manifest");
        }

        CommandProcess expire = CommandProcess.start(ws, "expire");
        try {
            expire.await(() -> count(repo) <= BACKUPS - 10, "some backups expired");
            expire.signal("KILL");
            assertThat(expire.awaitExit(30)).isNotNull();
        } finally {
            expire.kill();
        }
        int left = count(repo);
        assertThat(left).as("killed part-way, not at the end").isGreaterThan(2).isLessThan(BACKUPS);

        // Nothing listed lacks an object; what was half-deleted is not listed.
        JsonNode listed = list(ws);
        assertThat(listed.size()).isEqualTo(left);
        for (JsonNode entry : listed) {
            assertThat(entry.has("damaged")).as(entry.toString()).isFalse();
            Path backupDir = repo.resolve(JOB).resolve(entry.get("id").asText());
            JsonNode manifest = ManifestCodec.JSON.readTree(backupDir.resolve("manifest.json").toFile());
            for (JsonNode object : manifest.get("objects")) {
                assertThat(backupDir.resolve(object.get("name").asText())).exists();
            }
        }
        List<String> incomplete = new ArrayList<>(BackupHistory.directories(repo, JOB));
        incomplete.removeAll(BackupHistory.withManifest(repo, JOB));
        assertThat(incomplete).contains(old, young);

        Workspace.Result again = ws.run("expire");
        assertThat(again.status()).as(again.toString()).isZero();
        assertThat(again.lastLine()).isEqualTo("expired " + (left - 2) + " backup(s), 0 log object(s), "
                + (incomplete.size() - 1) + " incomplete backup(s)");
        assertThat(again.out()).contains("incomplete backup " + young + " of job postgres in repository 'local' (no "
                + "manifest, 1 object(s)) left: younger than 1 h, it may still be written");
        assertThat(BackupHistory.directories(repo, JOB)).containsExactly(ids.get(BACKUPS - 2), ids.get(BACKUPS - 1),
                young);
        assertThat(BackupHistory.ids(ws.run("list", JOB, "--json").out())).containsExactly(ids.get(BACKUPS - 2),
                ids.get(BACKUPS - 1));
    }

    /** Backups of the job with a manifest: those the catalog lists. */
    private static int count(Path repo) {
        try {
            return BackupHistory.withManifest(repo, JOB).size();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return Integer.MAX_VALUE; // a directory went while listing: look again
        }
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", JOB, "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        assertThat(list.err()).as(list.toString()).isEmpty();
        return ManifestCodec.JSON.readTree(list.out());
    }
}
