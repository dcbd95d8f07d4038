package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 'stowage sync JOB --repository NAME' where NAME is a configured repository that JOB does not write to: nothing can
 * be copied there, and sync must not say "every copy is in place". Asking for copies in a repository the job does not
 * use is a usage error (exit 2, one line).
 */
class SyncRepositoryOfAnotherJobTest {
    private static final String SOURCE = "catchup_sync_other_repo";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    @Test
    void sync_to_a_repository_the_job_does_not_use_is_not_reported_as_every_copy_in_place() throws Exception {
        Workspace ws = new Workspace(dir.resolve("ws")).job("postgres", SOURCE, "repositories", "local")
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", dir.resolve("nas").toString());
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();

        Workspace.Result sync = ws.run("sync", "postgres", "--repository", "nas");
        assertThat(sync.out()).as(sync.toString()).doesNotContain("every copy is in place");
        assertThat(sync.status()).as(sync.toString()).isEqualTo(2);
        assertThat(sync.err()).startsWith("error: ").contains("nas");
    }
}
