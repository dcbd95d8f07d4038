package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL's part of a manifest ({@code engineDetails}: the WAL range, the dump's contents) round-trips, and a
 * crafted one is damaged: its segment names are later joined to repository keys.
 */
class PgDetailsTest {
    private static final PgDetails.Wal WAL = new PgDetails.Wal(1, "0/2000028", "0/2000100",
            "000000010000000000000002", "000000010000000000000002", 16777216);

    private static Manifest physical(PgDetails.Wal wal) {
        Instant at = Instant.parse("2026-11-21T02:00:00Z");
        return new Manifest(Manifest.FORMAT_VERSION, "20261121T020000Z-F", "main", "postgresql", BackupType.FULL,
                "physical", null, at, at.plusSeconds(60), 1000, 300, new Manifest.Compression("zstd", 1), null,
                List.of(new Manifest.StoredObject("base.tar.zst", 1000, 300, "ab".repeat(32))),
                new Manifest.Tool("pg_basebackup", "15.20"), new Manifest.Server("15.20", Map.of()), "postgres",
                ManifestCodec.JSON.valueToTree(PgDetails.of(wal, null)));
    }

    private static Manifest read(String json) throws Exception {
        return ManifestCodec.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "'m.json'",
                new PostgresqlEngine()::detailsProblem);
    }

    @Test
    void should_read_back_the_wal_range_and_the_contents_it_wrote() throws Exception {
        Manifest read = read(new String(ManifestCodec.write(physical(WAL)), StandardCharsets.UTF_8));
        assertThat(PgDetails.wal(read)).isEqualTo(WAL);
        assertThat(PgDetails.contents(read)).isNull();
        assertThat(new PostgresqlEngine().listFields(read)).containsEntry("walStart", "000000010000000000000002")
                .containsEntry("walStop", "000000010000000000000002").containsEntry("timeline", 1);
        PgDetails.Contents contents = new PgDetails.Contents(Map.of("public.t", 3L), 1, 0);
        Manifest logical = new Manifest(Manifest.FORMAT_VERSION, "20261121T020000Z-F", "postgres", "postgresql",
                BackupType.FULL, "logical", null, read.started(), read.finished(), 1, 1, read.compression(), null,
                read.objects(), read.tool(), read.server(), "postgres",
                ManifestCodec.JSON.valueToTree(PgDetails.of(null, contents)));
        assertThat(PgDetails.contents(read(new String(ManifestCodec.write(logical), StandardCharsets.UTF_8))))
                .isEqualTo(contents);
    }

    @Test
    void should_call_a_manifest_with_a_crafted_wal_range_damaged() {
        String sound = new String(ManifestCodec.write(physical(WAL)), StandardCharsets.UTF_8);
        Map<String, String> crafted = Map.of(
                "\"startSegment\" : \"000000010000000000000002\"", "\"startSegment\" : \"../../000000010000000000000002\"",
                "\"stopSegment\" : \"000000010000000000000002\"", "\"stopSegment\" : \"000000010000000000000001\"",
                "\"timeline\" : 1", "\"timeline\" : 0",
                "\"segmentSize\" : 16777216", "\"segmentSize\" : 1000",
                "\"timeline\" : 1,", "\"timeline\" : \"one\",");
        crafted.forEach((from, to) -> {
            assertThat(sound).contains(from);
            assertThatThrownBy(() -> read(sound.replace(from, to))).as(to).isInstanceOf(StowageException.class)
                    .hasMessageContaining("'m.json' is damaged");
        });
    }
}
