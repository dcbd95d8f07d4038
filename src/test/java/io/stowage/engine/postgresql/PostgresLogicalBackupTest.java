package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.S3Object;

/** PostgreSQL logical backups end to end: real server, real S3 API, the shipped routes, the command line. */
class PostgresLogicalBackupTest {
    private static final String SOURCE = "kinds_source";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
    }

    private Workspace workspace() throws Exception {
        return new Workspace(dir).job("postgres", SOURCE);
    }

    @Test
    void should_restore_every_type_row_for_row() throws Exception {
        Workspace ws = workspace();
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        assertThat(id).matches("\\d{8}T\\d{6}Z-F");

        Workspace.Result restore = ws.run("restore", "postgres", "--backup", id, "--target-database", "kinds_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();

        Map<String, String> expected = SampleDatabase.contents(pg, SOURCE);
        assertThat(expected.get("public.kinds")).startsWith("5004 rows").contains("東京").contains("🎉");
        assertThat(expected.get("large objects")).contains(":");
        assertThat(SampleDatabase.contents(pg, "kinds_copy")).isEqualTo(expected);
        pg.dropDatabase("kinds_copy");
    }

    @Test
    void should_list_complete_backups_as_the_contract_says() throws Exception {
        Workspace ws = workspace();
        String first = ws.run("backup", "postgres").lastLine();
        String second = ws.run("backup", "postgres").lastLine();
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        JsonNode array = ManifestCodec.JSON.readTree(list.out());
        assertThat(array.isArray()).isTrue();
        assertThat(array).hasSize(2);
        assertThat(array.get(0).get("id").asText()).isEqualTo(first);
        assertThat(array.get(1).get("id").asText()).isEqualTo(second);
        JsonNode entry = array.get(0);
        for (String field : new String[] {"id", "job", "engine", "type", "method", "parent", "started", "finished",
                "sizeBytes", "storedBytes", "compression", "encrypted", "repositories", "verified"}) {
            assertThat(entry.has(field)).as("field " + field).isTrue();
        }
        assertThat(entry.get("job").asText()).isEqualTo("postgres");
        assertThat(entry.get("engine").asText()).isEqualTo("postgresql");
        assertThat(entry.get("type").asText()).isEqualTo("full");
        assertThat(entry.get("method").asText()).isEqualTo("logical");
        assertThat(entry.get("parent").isNull()).isTrue();
        assertThat(entry.get("started").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
        assertThat(entry.get("finished").asText()).endsWith("Z");
        assertThat(entry.get("sizeBytes").asLong()).isGreaterThan(entry.get("storedBytes").asLong()).isPositive();
        assertThat(entry.get("compression").asText()).isEqualTo("zstd");
        assertThat(entry.get("encrypted").asBoolean()).isFalse();
        assertThat(entry.get("repositories").get(0).asText()).isEqualTo("local");
        assertThat(entry.get("verified").isNull()).isTrue();

        Workspace.Result table = ws.run("list", "postgres");
        assertThat(table.out()).contains(first).contains(second);
        // A job that is neither configured nor in any repository is a mistake, not a job without backups.
        Workspace.Result unknown = ws.run("list", "other", "--json");
        assertThat(unknown.status()).as(unknown.toString()).isEqualTo(2);
        assertThat(unknown.out()).isEmpty();
    }

    @Test
    void should_copy_to_s3_with_its_storage_class_and_restore_from_s3_when_the_local_copy_is_missing() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "storageClass", "STANDARD_IA").s3(bucket, "team/db");
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        assertThat(backup.out()).contains("local, s3");

        var keys = S3TestServer.get().client().listObjectsV2(r -> r.bucket(bucket).prefix("team/db/postgres/"))
                .contents().stream().map(S3Object::key).toList();
        assertThat(keys).containsExactlyInAnyOrder("team/db/postgres/" + id + "/dump.pgfc.zst",
                "team/db/postgres/" + id + "/manifest.json");
        JsonNode listed = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(listed.get("repositories").toString()).isEqualTo("[\"local\",\"s3\"]");

        deleteTree(ws.repository().resolve("postgres").resolve(id));
        JsonNode afterLoss = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(afterLoss.get("repositories").toString()).isEqualTo("[\"s3\"]");

        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "kinds_from_s3");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("from repository s3");
        assertThat(SampleDatabase.contents(pg, "kinds_from_s3")).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        pg.dropDatabase("kinds_from_s3");
        try (Stream<Path> left = Files.list(ws.repository())) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".restore-"));
        }
    }

    @Test
    void should_refuse_a_restore_when_a_stored_object_changed_by_one_byte() throws Exception {
        Workspace ws = workspace();
        String id = ws.run("backup", "postgres").lastLine();
        Path object = ws.repository().resolve("postgres").resolve(id).resolve("dump.pgfc.zst");
        try (RandomAccessFile file = new RandomAccessFile(object.toFile(), "rw")) {
            file.seek(file.length() / 2);
            int b = file.read();
            file.seek(file.length() / 2);
            file.write(b ^ 0x01);
        }
        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "kinds_corrupt");
        assertThat(restore.status()).isEqualTo(1);
        assertThat(restore.err()).startsWith("error: ").contains("postgres/" + id + "/dump.pgfc.zst")
                .contains("corrupt");
        assertThat(restore.err().strip().lines()).hasSize(1);
        assertThat(pg.databaseExists("kinds_corrupt")).isFalse();
    }

    @Test
    void should_refuse_an_existing_target_database_unless_forced() throws Exception {
        Workspace ws = workspace();
        ws.run("backup", "postgres");
        pg.dropDatabase("kinds_existing");
        pg.execute("postgres", "CREATE DATABASE kinds_existing");
        pg.execute("kinds_existing", "CREATE TABLE precious (x int)", "INSERT INTO precious VALUES (42)");

        Workspace.Result refused = ws.run("restore", "postgres", "--target-database", "kinds_existing");
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).startsWith("error: target database 'kinds_existing' already exists")
                .contains("--force");
        assertThat(SampleDatabase.contents(pg, "kinds_existing")).containsKey("public.precious");

        Workspace.Result forced = ws.run("restore", "postgres", "--target-database", "kinds_existing", "--force");
        assertThat(forced.status()).as(forced.toString()).isZero();
        assertThat(SampleDatabase.contents(pg, "kinds_existing")).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        pg.dropDatabase("kinds_existing");
    }

    @Test
    void should_reject_bad_usage_with_exit_status_2() throws Exception {
        Workspace ws = workspace();
        Workspace.Result unknownJob = ws.run("backup", "nosuchjob");
        assertThat(unknownJob.status()).isEqualTo(2);
        assertThat(unknownJob.err().strip()).isEqualTo("error: unknown job 'nosuchjob'; jobs defined in routes/: postgres");

        Workspace.Result badType = ws.run("backup", "postgres", "--type", "incr");
        assertThat(badType.status()).isEqualTo(2);
        assertThat(badType.err()).startsWith("error: job 'postgres' (postgresql logical) supports [full] backups");

        Workspace.Result badTarget = ws.run("restore", "postgres", "--target-database", "x; DROP DATABASE y");
        assertThat(badTarget.status()).isEqualTo(2);
        assertThat(badTarget.err()).startsWith("error: target database").contains("not a plain database name");

        Workspace.Result noCommand = ws.run();
        assertThat(noCommand.status()).isEqualTo(2);
        assertThat(noCommand.err()).startsWith("error: ");

        Workspace.Result noBackups = ws.run("restore", "postgres", "--target-database", "nothing_here");
        assertThat(noBackups.status()).isEqualTo(1);
        assertThat(noBackups.err()).startsWith("error: job 'postgres' has no complete backup");
    }

    static void deleteTree(Path path) throws Exception {
        try (Stream<Path> paths = Files.walk(path)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
