package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** verify: a good backup is proven by a real restore and shows as verified; a corrupted one cannot pass. */
class VerifyTest {
    @TempDir
    Path dir;

    @Test
    void should_prove_a_backup_by_restoring_it_and_refuse_a_corrupted_one() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "verify_source");
        Workspace ws = new Workspace(dir).job("postgres", "verify_source");
        String id = ws.run("backup", "postgres").lastLine();
        // A scratch database left by a verification that was killed is dropped first.
        pg.execute("postgres", "CREATE DATABASE stowage_verify_postgres");

        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("verified backup " + id).contains("tables").contains("indexes valid");
        assertThat(pg.databaseExists("stowage_verify_postgres")).isFalse();
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(Instant.parse(entry.get("verified").asText())).isAfter(Instant.now().minusSeconds(120));

        String second = ws.run("backup", "postgres").lastLine();
        Path object = ws.repository().resolve("postgres").resolve(second).resolve("dump.pgfc.zst");
        try (RandomAccessFile file = new RandomAccessFile(object.toFile(), "rw")) {
            file.seek(file.length() / 2);
            int b = file.read();
            file.seek(file.length() / 2);
            file.write(b ^ 0x40);
        }
        Workspace.Result refused = ws.run("verify", "postgres", "--backup", second);
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).startsWith("error: object 'postgres/" + second + "/dump.pgfc.zst' in repository "
                + "'local' is corrupt");
        assertThat(pg.databaseExists("stowage_verify_postgres")).isFalse();
        JsonNode listed = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(1);
        assertThat(listed.get("id").asText()).isEqualTo(second);
        assertThat(listed.get("verified").isNull()).isTrue();
        pg.dropDatabase("verify_source");
    }
}
