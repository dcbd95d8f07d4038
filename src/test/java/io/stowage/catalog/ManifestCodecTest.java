package io.stowage.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Manifests round-trip, and a manifest of an unknown format version is refused, never guessed at. */
class ManifestCodecTest {
    private static Manifest sample() {
        return new Manifest(Manifest.FORMAT_VERSION, "20261121T020000Z-F", "postgres", "postgresql", BackupType.FULL,
                "logical", null, Instant.parse("2026-11-21T02:00:00.123Z"), Instant.parse("2026-11-21T02:01:00Z"),
                1000, 300, new Manifest.Compression("zstd", 1), null,
                List.of(new Manifest.StoredObject("dump.pgfc.zst", 1000, 300, "ab".repeat(32))),
                new Manifest.Tool("pg_dump", "15.20"), new Manifest.Server("15.20", Map.of()), "postgres", null,
                new Manifest.Contents(Map.of("public.kinds", 5004L, "sales.orders", 0L), 2, 1));
    }

    @Test
    void should_read_back_what_it_wrote() throws Exception {
        byte[] json = ManifestCodec.write(sample());
        String text = new String(json, StandardCharsets.UTF_8);
        assertThat(text).contains("\"formatVersion\" : 1").contains("\"type\" : \"full\"")
                .contains("\"started\" : \"2026-11-21T02:00:00.123Z\"");
        assertThat(ManifestCodec.read(new ByteArrayInputStream(json), "test")).isEqualTo(sample());
        // A manifest written before contents were recorded reads with none: still version 1.
        com.fasterxml.jackson.databind.node.ObjectNode older =
                (com.fasterxml.jackson.databind.node.ObjectNode) ManifestCodec.JSON.readTree(json);
        older.remove("contents");
        assertThat(ManifestCodec.read(new ByteArrayInputStream(ManifestCodec.JSON.writeValueAsBytes(older)), "test")
                .contents()).isNull();
    }

    @Test
    void should_refuse_a_format_version_it_does_not_know() {
        String future = new String(ManifestCodec.write(sample()), StandardCharsets.UTF_8)
                .replace("\"formatVersion\" : 1", "\"formatVersion\" : 2");
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(future.getBytes()), "'m.json'"))
                .isInstanceOf(StowageException.class).hasMessageContaining("format version 2")
                .hasMessageContaining("'m.json'");
    }

    @Test
    void should_refuse_a_manifest_that_is_not_json() {
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream("{not json".getBytes()), "'m.json'"))
                .isInstanceOf(StowageException.class).hasMessageContaining("not valid JSON");
    }

    @Test
    void should_make_ids_that_sort_by_time_and_end_with_the_type() {
        String early = BackupId.of(Instant.parse("2026-11-21T02:00:00.999Z"), BackupType.FULL);
        String late = BackupId.of(Instant.parse("2026-11-21T02:00:01Z"), BackupType.DIFF);
        assertThat(early).isEqualTo("20261121T020000Z-F");
        assertThat(late).isEqualTo("20261121T020001Z-D");
        assertThat(early.compareTo(late)).isNegative();
        assertThat(BackupId.isValid(early)).isTrue();
        assertThat(BackupId.isValid("20261121T020000Z-X")).isFalse();
        assertThat(BackupId.isValid("../etc")).isFalse();
    }

    /**
     * Every name a manifest gives is later joined to a path or a repository key, and its codec and encryption format
     * choose how bytes are read: a crafted manifest that could climb out of a directory, or that this version cannot
     * read, is damaged (so the catalog names it and skips that backup), never followed.
     */
    @Test
    void should_call_a_manifest_damaged_when_a_name_or_format_in_it_could_be_misused() throws Exception {
        String sound = new String(ManifestCodec.write(sample()), StandardCharsets.UTF_8);
        Map<String, String> crafted = Map.of(
                "\"dump.pgfc.zst\"", "\"../../../tmp/evil\"",
                "\"name\" : \"dump.pgfc.zst\"", "\"name\" : \"manifest.json\"",
                "\"codec\" : \"zstd\"", "\"codec\" : \"rot13\"",
                "\"parent\" : null", "\"parent\" : \"../x\"",
                "\"" + "ab".repeat(32) + "\"", "\"not-a-hash\"",
                "\"encryption\" : null", "\"encryption\" : {\"format\" : \"gpg\", \"recipients\" : []}",
                "\"wal\" : null", "\"wal\" : {\"timeline\" : 1, \"startSegment\" : \"../../000000010000000000000002\","
                        + " \"stopSegment\" : \"000000010000000000000002\", \"segmentSize\" : 16777216}");
        crafted.forEach((from, to) -> {
            assertThat(sound).contains(from);
            String bad = sound.replace(from, to);
            assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(bad.getBytes(StandardCharsets.UTF_8)),
                    "'m.json'")).as(to).isInstanceOf(StowageException.class).hasMessageContaining("'m.json' is damaged");
        });
        // Two objects of one name would be laid out over each other.
        com.fasterxml.jackson.databind.node.ObjectNode twice =
                (com.fasterxml.jackson.databind.node.ObjectNode) ManifestCodec.JSON.readTree(sound);
        ((com.fasterxml.jackson.databind.node.ArrayNode) twice.get("objects")).add(twice.get("objects").get(0).deepCopy());
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(ManifestCodec.JSON.writeValueAsBytes(twice)),
                "'m.json'")).isInstanceOf(StowageException.class).hasMessageContaining("repeats");
    }
}
