package io.stowage.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every manifest version ever written stays readable: a repository written by the release before format version 2
 * (src/test/resources/fixtures/format1-repository: a logical backup of a database with 50 kinds and 200 orders,
 * with its rows per table in the version-1 top-level {@code contents}) lists, verifies (the recorded row counts
 * compared) and restores.
 */
class FormatOneRepositoryTest {
    private static final String ID = "20261201T010957Z-F";

    @TempDir
    Path dir;

    private Workspace workspace() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", "postgres");
        Path fixture = Path.of("src/test/resources/fixtures/format1-repository");
        try (Stream<Path> files = Files.walk(fixture)) {
            for (Path from : files.toList()) {
                Path to = ws.repository().resolve(fixture.relativize(from).toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(from, to);
                }
            }
        }
        return ws;
    }

    @Test
    void should_list_verify_and_restore_a_backup_of_format_version_1() throws Exception {
        Workspace ws = workspace();
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        // The fixture's objects belong to the role 'postgres' of the server it was taken from.
        pg.execute("postgres", "DO $$BEGIN CREATE ROLE postgres; EXCEPTION WHEN duplicate_object THEN NULL; END$$");
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        JsonNode entry = ManifestCodec.JSON.readTree(list.out()).get(0);
        assertThat(entry.get("id").asText()).isEqualTo(ID);
        assertThat(entry.get("engine").asText()).isEqualTo("postgresql");
        assertThat(entry.get("method").asText()).isEqualTo("logical");
        assertThat(entry.get("repositories").get(0).asText()).isEqualTo("local");

        Workspace.Result verify = ws.run("verify", "postgres", "--backup", ID);
        assertThat(verify.status()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("2 tables, 250 rows read, row counts as recorded");

        Workspace.Result restore = ws.run("restore", "postgres", "--backup", ID, "--target-database", "format1_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(pg.number("format1_copy", "SELECT count(*) FROM kinds")).isEqualTo(50);
        assertThat(pg.number("format1_copy", "SELECT count(*) FROM sales.orders")).isEqualTo(200);
        pg.dropDatabase("format1_copy");
    }
}
