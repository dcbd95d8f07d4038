package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One backup whose copy in the source repository lacks an object (a file lost, a partial restore of the repository
 * from tape) must not stop the catch-up of every other backup: the object missing is that backup's problem, not the
 * repository's. The source stays usable for every later backup of the round, and a good backup is copied.
 */
class CatchUpSourceObjectMissingTest {
    private static final String SOURCE = "catchup_missing_source";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void a_backup_with_an_object_missing_in_the_source_does_not_block_the_catch_up_of_the_others() throws Exception {
        Path nas = dir.resolve("nas");
        Workspace ws = new Workspace(dir.resolve("ws")).job("postgres", SOURCE)
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", nas.toString())
                .property("stowage.repository.retry.delay-ms", "10");
        Workspace.Result first = ws.run("backup", "postgres");
        assertThat(first.status()).as(first.toString()).isZero();
        String broken = first.lastLine().strip();
        Thread.sleep(1100); // backup ids are by the second
        Workspace.Result second = ws.run("backup", "postgres");
        assertThat(second.status()).as(second.toString()).isZero();
        String good = second.lastLine().strip();

        // nas lost both backups; local lost one object of the older one (its manifest is still there).
        deleteTree(nas.resolve("postgres/" + broken));
        deleteTree(nas.resolve("postgres/" + good));
        Path brokenDir = ws.repository().resolve("postgres/" + broken);
        List<Path> objects;
        try (Stream<Path> files = Files.list(brokenDir)) {
            objects = files.filter(f -> !f.getFileName().toString().equals("manifest.json")
                    && !f.getFileName().toString().startsWith(".")).toList();
        }
        assertThat(objects).isNotEmpty();
        Files.delete(objects.get(0));

        Workspace.Result sync = ws.run("sync", "postgres");
        // The older backup cannot be copied (exit 1 says so), but the good one must be.
        assertThat(sync.status()).as(sync.toString()).isEqualTo(1);
        assertThat(Files.exists(nas.resolve("postgres/" + good + "/manifest.json")))
                .as("the good backup " + good + " is caught up to nas: " + sync).isTrue();
        assertThat(sync.err()).as("a missing object is not 'repository does not answer'")
                .doesNotContain("does not answer");
    }
}
