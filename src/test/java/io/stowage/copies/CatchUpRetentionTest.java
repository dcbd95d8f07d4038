package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catch-up of copies and retention agree: a backup the local repository's policy released (kept seven years on
 * the NAS) is not copied back there by {@code stowage sync}, while a backup the local policy keeps and lacks is.
 */
class CatchUpRetentionTest {
    private static final String SOURCE = "catch_up_retention";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    private static List<String> ids(Workspace ws, String repository) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        List<String> ids = new ArrayList<>();
        for (JsonNode entry : ManifestCodec.JSON.readTree(list.out())) {
            for (JsonNode held : entry.get("repositories")) {
                if (held.asText().equals(repository)) {
                    ids.add(entry.get("id").asText());
                }
            }
        }
        return ids;
    }

    @Test
    void should_not_copy_back_what_the_target_policy_released_but_copy_what_it_keeps() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", dir.resolve("nas").toString())
                .property("stowage.repository.local.retention", "1");
        for (int i = 0; i < 3; i++) {
            Workspace.Result backup = ws.run("backup", "postgres");
            assertThat(backup.status()).as(backup.toString()).isZero();
            Thread.sleep(1100); // one backup id per second
        }
        List<String> onNas = ids(ws, "nas");
        assertThat(onNas).hasSize(3);
        // Each backup expired the older ones in local only (the NAS has no policy).
        assertThat(ids(ws, "local")).containsExactly(onNas.get(2));

        Workspace.Result dry = ws.run("sync", "--dry-run");
        assertThat(dry.status()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("every copy is in place").doesNotContain("missing:");

        // The newest backup's local copy lost: the local policy keeps it, so it is copied back.
        io.stowage.FileTrees.delete(ws.repository().resolve("postgres").resolve(onNas.get(2)));
        Workspace.Result sync = ws.run("sync");
        assertThat(sync.status()).as(sync.toString()).isZero();
        assertThat(sync.out()).contains("copied: backup " + onNas.get(2));
        assertThat(ids(ws, "local")).containsExactly(onNas.get(2));
        assertThat(ids(ws, "nas")).isEqualTo(onNas);
    }
}
