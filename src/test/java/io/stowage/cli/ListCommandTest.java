package io.stowage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table {@code list} prints: what the JSON says, for the eyes, verification included. */
class ListCommandTest {
    private static final String SOURCE = "list_table_source";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        pg.createDatabase(SOURCE, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 5)");
    }

    @Test
    void should_show_when_each_backup_was_last_verified() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE);
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();

        List<String> unverified = ws.run("list", "postgres").out().lines().toList();
        assertThat(unverified.get(0)).contains("VERIFIED");
        String row = unverified.stream().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
        assertThat(column(unverified.get(0), row, "VERIFIED")).isEqualTo("-");
        assertThat(column(unverified.get(0), row, "WAL")).as("a logical backup needs no WAL").isEqualTo("-");

        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isZero();
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        Instant verified = Instant.parse(entry.get("verified").asText());
        List<String> table = ws.run("list", "postgres").out().lines().toList();
        String verifiedRow = table.stream().filter(l -> l.startsWith(id)).findFirst().orElseThrow();
        assertThat(column(table.get(0), verifiedRow, "VERIFIED"))
                .isEqualTo(verified.truncatedTo(ChronoUnit.SECONDS).toString());
    }

    @Test
    void should_refuse_a_job_that_is_neither_configured_nor_in_a_repository() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", SOURCE);
        Workspace.Result typo = ws.run("list", "postgress");
        assertThat(typo.status()).as(typo.toString()).isEqualTo(2);
        assertThat(typo.err()).startsWith("error: unknown job 'postgress'; jobs defined in routes/: postgres");
        Workspace.Result hostile = ws.run("list", "../etc", "--json");
        assertThat(hostile.status()).as(hostile.toString()).isEqualTo(2);
        assertThat(hostile.out()).isEmpty();
        Workspace.Result none = ws.run("list", "postgres", "--json");
        assertThat(none.status()).as("a configured job without backups: " + none).isZero();
        assertThat(none.out().strip()).isEqualTo("[ ]");
    }

    /** The value under {@code name} in a row of the table: columns start where their headings start. */
    private static String column(String header, String row, String name) {
        int start = header.indexOf(name);
        assertThat(start).as("column " + name + " in " + header).isNotNegative();
        int end = row.indexOf("  ", start);
        return (end < 0 ? row.substring(start) : row.substring(start, end)).strip();
    }
}
