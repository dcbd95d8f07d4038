package io.stowage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped application.properties and routes/, unchanged, configured only by the environment variables that
 * SPEC names (libpq's PG*, STOWAGE_*, the AWS SDK's own): backup, list and restore in a separate JVM.
 */
class ShippedConfigurationTest {
    @TempDir
    Path dir;

    private Map<String, String> environment(ThrowawayPostgres pg, String database) {
        Map<String, String> env = new HashMap<>();
        env.put("PGHOST", pg.host());
        env.put("PGPORT", Integer.toString(pg.port()));
        env.put("PGUSER", ThrowawayPostgres.USER);
        env.put("PGPASSWORD", ThrowawayPostgres.PASSWORD);
        env.put("PGDATABASE", database);
        // The server's own client tools first, as an operator's PATH would have them.
        env.put("PATH", pg.binDir() + ":" + System.getenv("PATH"));
        return env;
    }

    private void copyShippedConfiguration() throws Exception {
        Files.copy(Path.of("application.properties"), dir.resolve("application.properties"));
        Path routes = Files.createDirectories(dir.resolve("routes"));
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            for (Path file : files.toList()) {
                Files.copy(file, routes.resolve(file.getFileName()));
            }
        }
    }

    @Test
    void should_back_up_list_and_restore_with_the_shipped_configuration_and_environment_only() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "shipped_source");
        copyShippedConfiguration();
        String bucket = S3TestServer.get().createBucket();
        Map<String, String> env = environment(pg, "shipped_source");
        env.put("STOWAGE_S3_BUCKET", bucket);
        env.put("STOWAGE_S3_PREFIX", "prod/");
        env.put("AWS_ENDPOINT_URL_S3", S3TestServer.get().endpoint());
        env.put("AWS_ACCESS_KEY_ID", S3TestServer.ACCESS_KEY);
        env.put("AWS_SECRET_ACCESS_KEY", S3TestServer.SECRET_KEY);
        env.put("AWS_REGION", "eu-west-1");

        Workspace.Result check = StowageProcess.run(dir, env, "check");
        assertThat(check.status()).as(check.toString()).isZero();
        assertThat(check.out()).contains("ok    job postgres (postgresql logical)").contains("ok    repository s3");

        Workspace.Result backup = StowageProcess.run(dir, env, "backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        assertThat(dir.resolve("backups/postgres").resolve(id).resolve("manifest.json")).exists();

        Workspace.Result list = StowageProcess.run(dir, env, "list", "--json");
        JsonNode entry = ManifestCodec.JSON.readTree(list.out()).get(0);
        assertThat(entry.get("id").asText()).isEqualTo(id);
        assertThat(entry.get("repositories").toString()).isEqualTo("[\"local\",\"s3\"]");
        assertThat(S3TestServer.get().client().listObjectsV2(r -> r.bucket(bucket).prefix("prod/postgres/" + id + "/"))
                .contents()).hasSize(2);

        Workspace.Result restore = StowageProcess.run(dir, env, "restore", "postgres", "--target-database",
                "shipped_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(SampleDatabase.contents(pg, "shipped_copy")).isEqualTo(SampleDatabase.contents(pg, "shipped_source"));
        pg.dropDatabase("shipped_copy");

        for (Workspace.Result result : new Workspace.Result[] {check, backup, list, restore}) {
            assertThat(result.out() + result.err()).doesNotContain(ThrowawayPostgres.PASSWORD)
                    .doesNotContain(S3TestServer.SECRET_KEY);
        }
    }

    @Test
    void should_reject_a_missing_configuration_file_with_exit_status_2() throws Exception {
        Workspace.Result result = StowageProcess.run(dir, Map.of(), "list");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err().strip()).startsWith("error: configuration file ").contains("not found");
    }

    @Test
    void should_reject_a_broken_route_file_naming_the_file_and_line() throws Exception {
        copyShippedConfiguration();
        Files.writeString(dir.resolve("routes/jobs.camel.yaml"), "- templatedRoute:\n    routeTemplateRef: postgresql-logical\n"
                + "    routeId: backup-x\n    paramters:\n      - name: job\n        value: x\n");
        Workspace.Result result = StowageProcess.run(dir, Map.of(), "check");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).startsWith("error: invalid configuration").contains("jobs.camel.yaml")
                .containsPattern("jobs.camel.yaml, line [45]\\)");
        assertThat(result.err().strip().lines()).hasSize(1);
    }

    @Test
    void should_run_as_a_service_and_stop_cleanly_on_sigterm() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        copyShippedConfiguration();
        Path log = dir.resolve("service.log");
        Map<String, String> env = new HashMap<>(environment(pg, "postgres"));
        // The shipped port, 9876, may be held by anything on a shared machine, and run refuses a port it cannot have:
        // the system chooses a free one.
        env.put("STOWAGE_MANAGEMENT_PORT", "0");
        Process service = StowageProcess.builder(dir, env, "run")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (!Files.readString(log).contains("stowage started") && service.isAlive()
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(Files.readString(log)).contains("stowage started with jobs [postgres]")
                .containsPattern("health and metrics on http://127\\.0\\.0\\.1:\\d+/observe/").doesNotContain(":9876/");
        service.destroy(); // SIGTERM
        assertThat(service.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(log)).contains("stopping").doesNotContain("Exception");
        assertThat(service.exitValue()).isZero();
    }
}
