package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.HttpReceiver;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Named repositories end to end: a job writing to two local directories and an S3 bucket (the in-JVM server), the
 * shipped routes, a real server; restores that find the copy that remains, and a backup with one repository down.
 */
class NamedRepositoriesTest {
    private static final String SOURCE = "named_source";
    private static final String SLACK = "/slack/T000/B000/NAMED";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
    }

    /** local and nas (two directories) and s3 (a fresh bucket), in that order. */
    private Workspace threeRepositories(String bucket) throws Exception {
        return new Workspace(dir).job("postgres", SOURCE).s3(bucket, "stowage/")
                .property("stowage.repositories", "local, nas, s3")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", dir.resolve("nas").toString())
                .property("stowage.repository.nas.media", "nas")
                .property("stowage.repository.s3.type", "s3")
                .property("stowage.repository.retry.delay-ms", "10");
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }

    private static List<String> objects(String bucket) {
        return S3TestServer.get().client().listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket)
                .build()).contents().stream().map(S3Object::key).toList();
    }

    @Test
    void should_back_up_to_three_repositories_and_restore_from_the_next_copy_when_one_is_gone() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = threeRepositories(bucket);

        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        assertThat(ws.repository().resolve("postgres").resolve(id).resolve("manifest.json")).exists();
        assertThat(dir.resolve("nas/postgres").resolve(id).resolve("manifest.json")).exists();
        assertThat(objects(bucket)).contains("stowage/postgres/" + id + "/manifest.json",
                "stowage/postgres/" + id + "/dump.pgfc.zst");
        assertThat(list(ws).get(0).get("repositories").toString()).isEqualTo("[\"local\",\"nas\",\"s3\"]");

        // An operator deletes the first copy by hand: the catalog no longer lists it, a restore reads the next one.
        io.stowage.FileTrees.delete(ws.repository().resolve("postgres").resolve(id));
        JsonNode listed = list(ws);
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"nas\",\"s3\"]");

        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "named_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("restored backup " + id + " of job postgres from repository nas");
        Map<String, String> expected = SampleDatabase.contents(pg, SOURCE);
        assertThat(SampleDatabase.contents(pg, "named_copy")).isEqualTo(expected);

        Workspace.Result fromS3 = ws.run("restore", "postgres", "--target-database", "named_copy", "--force",
                "--from", "s3");
        assertThat(fromS3.status()).as(fromS3.toString()).isZero();
        assertThat(fromS3.out()).contains("from repository s3");
        assertThat(SampleDatabase.contents(pg, "named_copy")).isEqualTo(expected);

        Workspace.Result fromGone = ws.run("restore", "postgres", "--target-database", "named_other", "--from",
                "local");
        assertThat(fromGone.status()).as(fromGone.toString()).isEqualTo(1);
        assertThat(fromGone.err()).startsWith("error: ").contains("backup " + id + " of job 'postgres' has no "
                + "complete copy in repository 'local' (--from); it is complete in nas, s3");
        assertThat(fromGone.err().strip().lines()).hasSize(1);
        pg.dropDatabase("named_copy");
    }

    @Test
    void should_restore_from_the_next_repository_when_the_first_copy_is_damaged() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = threeRepositories(bucket);
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        Path dump = ws.repository().resolve("postgres").resolve(backup.lastLine()).resolve("dump.pgfc.zst");
        byte[] bytes = Files.readAllBytes(dump);
        bytes[bytes.length / 2] ^= 1;
        Files.write(dump, bytes);

        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "named_damaged");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("from repository nas");
        assertThat(restore.err()).contains("warning: backup " + backup.lastLine()).contains("the copy in repository "
                + "local cannot be used").contains("corrupt");
        pg.dropDatabase("named_damaged");

        // A verification proves every copy it records itself beside: the damaged one fails it, named, and nothing
        // is recorded as verified.
        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.err()).contains("in repository 'local' is corrupt");
        try (java.util.stream.Stream<Path> files = Files.list(dump.getParent())) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("verified-")).toList())
                    .isEmpty();
        }
        assertThat(list(ws).get(0).get("verified").isNull()).isTrue();
    }

    @Test
    void should_complete_the_copies_it_can_when_one_repository_is_down_and_fail_the_run_with_an_alert()
            throws Exception {
        try (HttpReceiver receiver = new HttpReceiver()) {
            String down = "http://127.0.0.1:" + ThrowawayPostgres.freePort();
            Workspace ws = threeRepositories(S3TestServer.get().createBucket())
                    .property("stowage.repositories", "local, nas, s3, s3-down")
                    .property("stowage.repository.s3-down.type", "s3")
                    .property("stowage.repository.s3-down.bucket", "unreachable")
                    .property("stowage.repository.s3-down.endpoint", down)
                    .property("stowage.repository.s3-down.region", "us-east-1")
                    .property("stowage.alert.slack.webhook-url", receiver.url(SLACK))
                    .property("camel.component.slack.webhook-url", receiver.url(SLACK));

            Workspace.Result backup = ws.run("backup", "postgres");

            assertThat(backup.status()).as(backup.toString()).isEqualTo(1);
            assertThat(backup.err()).startsWith("error: ").contains("is complete in 'local', 'nas', 's3' but its copy "
                    + "to 's3-down' failed").contains("cannot reach S3");
            assertThat(backup.err().strip().lines()).hasSize(1);
            JsonNode listed = list(ws);
            assertThat(listed).hasSize(1);
            assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"local\",\"nas\",\"s3\"]");
            List<HttpReceiver.Request> alerts = receiver.requests(SLACK);
            assertThat(alerts).hasSize(1);
            assertThat(alerts.get(0).body()).contains("s3-down");
        }
    }

    @Test
    void should_write_a_job_naming_only_s3_straight_from_the_stream_and_restore_it() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = threeRepositories(bucket);
        ws.job("postgres", SOURCE, "repositories", "s3");

        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        assertThat(objects(bucket)).contains("stowage/postgres/" + id + "/manifest.json");
        assertThat(ws.repository().resolve("postgres").resolve(id)).doesNotExist();
        assertThat(dir.resolve("nas/postgres")).doesNotExist();
        assertThat(list(ws).get(0).get("repositories").toString()).isEqualTo("[\"s3\"]");

        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "named_s3");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("from repository s3");
        pg.dropDatabase("named_s3");
    }
}
