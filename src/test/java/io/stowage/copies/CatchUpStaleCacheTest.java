package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.route.JobLock;
import io.stowage.runtime.StowageRuntime;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's catch-up keeps, between rounds, which backups each repository holds complete. A repository that loses
 * a backup's manifest (an operator, an interrupted delete) no longer holds it complete: the next round that looks
 * again (at the pace of the log archives' listing, here every round) counts it missing or copies it again, rather
 * than trusting what it saw before forever.
 */
class CatchUpStaleCacheTest {
    private static final String SOURCE = "catchup_stale_cache_source";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    @Test
    void a_manifest_lost_in_a_repository_is_seen_missing_by_the_next_round() throws Exception {
        Path nas = dir.resolve("nas");
        Workspace ws = new Workspace(dir.resolve("ws")).job("postgres", SOURCE)
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", nas.toString());
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine().strip();
        Path manifest = nas.resolve("postgres/" + id + "/manifest.json");
        assertThat(manifest).exists();

        try (StowageRuntime runtime = StowageRuntime.startLight(ws.writeConfiguration())) {
            var services = runtime.services();
            Path home = services.repositories().home().root();
            // The service's instance: one CatchUp kept between rounds.
            CatchUp catchUp = new CatchUp(services, job -> JobLock.tryAcquire(home, job), Duration.ZERO);
            CatchUp.Options round = new CatchUp.Options(null, null, false, false);
            CatchUp.Report first = catchUp.run(round);
            assertThat(first.missingBackups().get("postgres").get("nas")).isZero();

            Files.delete(manifest); // nas no longer holds the backup complete

            CatchUp.Report second = catchUp.run(round);
            boolean copiedAgain = Files.exists(manifest);
            int counted = second.missingBackups().get("postgres").get("nas");
            assertThat(copiedAgain || counted == 1)
                    .as("the round after the manifest was lost either copies the backup again or counts it missing "
                            + "(copied: " + second.copied() + ", missing in nas: " + counted + ")")
                    .isTrue();
        }
    }
}
