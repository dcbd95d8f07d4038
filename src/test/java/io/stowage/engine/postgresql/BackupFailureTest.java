package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.FlakyTcpProxy;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a logical backup can fail: each gives one clear error line, the documented exit status, and loses
 * nothing: no half-written backup is listed, and a complete local copy stays listed when S3 fails.
 */
class BackupFailureTest {
    private static final String SOURCE = "failure_source";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
    }

    private static void assertOneErrorLine(Workspace.Result result, int status, String... fragments) {
        assertThat(result.status()).as(result.toString()).isEqualTo(status);
        assertThat(result.err()).startsWith("error: ");
        assertThat(result.err().strip().lines()).as(result.err()).hasSize(1);
        for (String fragment : fragments) {
            assertThat(result.err()).contains(fragment);
        }
        assertThat(result.err()).doesNotContain(ThrowawayPostgres.PASSWORD).doesNotContain("\tat ");
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }

    /** Nothing but complete backups and the job's lock file under the job's directory. */
    private static void assertNoLeftovers(Workspace ws) throws Exception {
        Path job = ws.repository().resolve("postgres");
        if (!Files.exists(job)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(job)) {
            for (Path path : paths.toList()) {
                String name = path.getFileName().toString();
                if (Files.isRegularFile(path)) {
                    assertThat(name).as(path.toString()).doesNotContain(".tmp-");
                } else if (!path.equals(job)) {
                    assertThat(path.resolve("manifest.json")).as("incomplete backup " + path).exists();
                }
            }
        }
    }

    @Test
    void should_fail_clearly_when_the_database_is_unreachable() throws Exception {
        int closed = ThrowawayPostgres.freePort();
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "port", Integer.toString(closed));
        Workspace.Result result = ws.run("backup", "postgres");
        assertOneErrorLine(result, 1, "cannot connect to PostgreSQL at 127.0.0.1:" + closed, "HINT");
        assertThat(list(ws)).isEmpty();
        assertNoLeftovers(ws);
    }

    @Test
    void should_print_only_the_error_line_when_a_backup_fails_in_its_own_process() throws Exception {
        int closed = ThrowawayPostgres.freePort();
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "port", Integer.toString(closed));
        Workspace.Result result = StowageProcess.run(dir, java.util.Map.of(), "--config",
                ws.writeConfiguration().toString(), "backup", "postgres");
        assertThat(result.status()).as(result.toString()).isEqualTo(1);
        assertThat(result.out()).as(result.toString()).isEmpty();
        assertThat(result.err().lines().toList()).as(result.toString()).containsExactly("error: backup of job "
                + "'postgres' failed: cannot connect to PostgreSQL at 127.0.0.1:" + closed + " (database '" + SOURCE
                + "', user '" + ThrowawayPostgres.USER + "'): Connection to 127.0.0.1:" + closed + " refused. Check "
                + "that the hostname and port are correct and that the postmaster is accepting TCP/IP connections.; "
                + "HINT: is the server running, and are PGHOST and PGPORT right?");

        // What else went wrong on the way (here: the audit line cannot be written either) is a warning line, in
        // the same form, before the error line: never a log line with a time stamp and a class name.
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        ws.property("stowage.repository.local.path", notADirectory.resolve("backups").toString());
        Workspace.Result unwritable = StowageProcess.run(dir, java.util.Map.of(), "--config",
                ws.writeConfiguration().toString(), "backup", "postgres");
        List<String> lines = unwritable.err().lines().toList();
        assertThat(unwritable.status()).as(unwritable.toString()).isEqualTo(1);
        assertThat(lines.get(lines.size() - 1)).as(unwritable.toString()).startsWith("error: backup of job 'postgres' "
                + "failed: ");
        assertThat(lines.subList(0, lines.size() - 1)).as(unwritable.toString()).isNotEmpty()
                .allMatch(l -> l.startsWith("warning: ")).anyMatch(l -> l.contains("audit log"));
    }

    @Test
    void should_fail_clearly_and_never_retry_on_a_wrong_password() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "password", "not-the-password");
        Workspace.Result result = ws.run("backup", "postgres");
        assertOneErrorLine(result, 1, "password authentication failed", "HINT");
        assertThat(result.err()).doesNotContain("not-the-password");
        assertThat(list(ws)).isEmpty();
    }

    @Test
    void should_fail_clearly_when_pg_dump_is_missing() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "pgBin", dir.resolve("no-such-dir").toString());
        Workspace.Result result = ws.run("backup", "postgres");
        assertOneErrorLine(result, 1, "cannot run " + dir.resolve("no-such-dir/pg_dump"), "HINT");
        assertThat(list(ws)).isEmpty();
        assertNoLeftovers(ws);
    }

    @Test
    void should_list_nothing_when_pg_dump_fails_half_way() throws Exception {
        // A pg_dump that writes a megabyte of dump, then dies the way pg_dump does when the server goes away.
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path script = bin.resolve("pg_dump");
        Files.writeString(script, "#!/bin/sh\n"
                + "if [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15.0'; exit 0; fi\n"
                + "head -c 1048576 /dev/urandom\n"
                + "echo 'pg_dump: error: Dumping the contents of table \"kinds\" failed: PQgetResult() failed.' >&2\n"
                + "echo 'pg_dump: detail: server closed the connection unexpectedly' >&2\n"
                + "exit 1\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "pgBin", bin.toString());
        Workspace.Result result = ws.run("backup", "postgres");
        assertOneErrorLine(result, 1, "pg_dump failed (exit status 1)", "Dumping the contents of table");
        assertThat(list(ws)).isEmpty();
        assertNoLeftovers(ws);

        // The next run with a working pg_dump succeeds.
        ws.job("postgres", SOURCE);
        assertThat(ws.run("backup", "postgres").status()).isZero();
        assertThat(list(ws)).hasSize(1);
        assertNoLeftovers(ws);
    }

    @Test
    void should_fail_clearly_when_the_repository_directory_cannot_be_written() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        Workspace ws = new Workspace(dir).job("postgres", SOURCE)
                .property("stowage.repository.local.path", notADirectory.resolve("backups").toString());
        Workspace.Result result = ws.run("backup", "postgres");
        // What is wrong with the path, not the path alone.
        assertOneErrorLine(result, 1, "not a directory: " + notADirectory.resolve("backups"));
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).isEqualTo(1);
        assertThat(check.out()).contains("FAIL  repository local");
    }

    @Test
    void should_keep_the_local_backup_listed_when_the_bucket_is_missing() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE).s3("no-such-bucket-here", "");
        Workspace.Result result = ws.run("backup", "postgres");
        assertOneErrorLine(result, 1, "is complete in 'local'", "bucket 'no-such-bucket-here' does not exist");
        // The last line on stdout is a new backup's id only when the backup succeeded; the error line names the
        // backup that is complete in the local repository.
        assertThat(result.out()).as(result.toString()).isEmpty();
        java.util.regex.Matcher named = java.util.regex.Pattern.compile("backup (\\d{8}T\\d{6}Z-F) is complete in "
                + "'local'").matcher(result.err());
        assertThat(named.find()).as(result.err()).isTrue();
        String id = named.group(1);
        JsonNode listed = list(ws);
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).get("id").asText()).isEqualTo(id);
        assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"local\"]");
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).isEqualTo(1);
        assertThat(check.out()).contains("FAIL  repository s3").contains("does not exist");
    }

    @Test
    void should_keep_the_local_backup_listed_when_s3_is_unreachable() throws Exception {
        String endpoint = "http://127.0.0.1:" + ThrowawayPostgres.freePort();
        Workspace ws = new Workspace(dir).job("postgres", SOURCE).s3("unreachable-bucket", "", endpoint);
        Workspace.Result result = ws.run("backup", "postgres");
        assertOneErrorLine(result, 1, "is complete in 'local'", "cannot reach S3");
        JsonNode listed = list(ws);
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"local\"]");
        assertThat(ws.run("list", "--json").err()).contains("warning: repository 's3' skipped");
    }

    @Test
    void should_leave_no_object_in_s3_when_an_upload_fails_mid_way() throws Exception {
        String database = "failure_big";
        SampleDatabase.createManyTypes(pg, database);
        SampleDatabase.addRandomBytes(pg, database, 12);
        String bucket = S3TestServer.get().createBucket();
        int s3Port = URI.create(S3TestServer.get().endpoint()).getPort();
        // Cut the connection after 7 MiB: the first 5 MiB part is through, the second is half sent.
        try (FlakyTcpProxy proxy = new FlakyTcpProxy(s3Port, 7L * 1024 * 1024)) {
            Workspace ws = new Workspace(dir).job("postgres", database).s3(bucket, "", proxy.endpoint());
            Workspace.Result result = ws.run("backup", "postgres");
            assertThat(proxy.wasCut()).isTrue();
            assertOneErrorLine(result, 1, "is complete in 'local'", "copy to 's3' failed");
            List<String> keys = S3TestServer.get().client().listObjectsV2(r -> r.bucket(bucket)).contents().stream()
                    .map(o -> o.key()).toList();
            assertThat(keys).isEmpty();
            JsonNode listed = list(new Workspace(dir.resolve("again").toFile().mkdirs() ? dir.resolve("again") : dir)
                    .property("stowage.repository.local.path", ws.repository().toString())
                    .s3(bucket, ""));
            assertThat(listed).hasSize(1);
            assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"local\"]");

            // With S3 back, the next backup is complete in both.
            Workspace healed = new Workspace(dir.resolve("healed").toFile().mkdirs() ? dir.resolve("healed") : dir)
                    .job("postgres", database).s3(bucket, "")
                    .property("stowage.repository.local.path", ws.repository().toString());
            Workspace.Result next = healed.run("backup", "postgres");
            assertThat(next.status()).as(next.toString()).isZero();
            assertThat(list(healed).get(1).get("repositories").toString()).isEqualTo("[\"local\",\"s3\"]");
            // Every object of it went up with SHA-256 checksums that S3 checked and kept: the dump in parts (a
            // composite of the parts' SHA-256s), the manifest in one PUT.
            String healedId = next.lastLine();
            List<software.amazon.awssdk.services.s3.model.S3Object> objects = S3TestServer.get().client()
                    .listObjectsV2(r -> r.bucket(bucket).prefix("postgres/" + healedId + "/")).contents();
            assertThat(objects).extracting(o -> o.key().substring(o.key().lastIndexOf('/') + 1))
                    .contains("manifest.json", "dump.pgfc.zst");
            for (software.amazon.awssdk.services.s3.model.S3Object object : objects) {
                String checksum = S3TestServer.get().client().headObject(r -> r.bucket(bucket).key(object.key())
                        .checksumMode(software.amazon.awssdk.services.s3.model.ChecksumMode.ENABLED)).checksumSHA256();
                assertThat(checksum).as(object.key()).isNotNull();
                assertThat(checksum.matches(".*-[0-9]+")).as(object.key()).isEqualTo(object.size() > 5 * 1024 * 1024);
            }
        } finally {
            pg.dropDatabase(database);
        }
    }
}
