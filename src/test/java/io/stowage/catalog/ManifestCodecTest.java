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
                new Manifest.Tool("pg_dump", "15.20"), new Manifest.Server("15.20", Map.of()), "postgres",
                json("{\"contents\": {\"tables\": {\"public.kinds\": 5004, \"sales.orders\": 0}, \"indexes\": 2,"
                        + " \"foreignKeys\": 1}}"));
    }

    private static com.fasterxml.jackson.databind.JsonNode json(String text) {
        try {
            return ManifestCodec.JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void should_read_back_what_it_wrote() throws Exception {
        byte[] json = ManifestCodec.write(sample());
        String text = new String(json, StandardCharsets.UTF_8);
        assertThat(text).contains("\"formatVersion\" : 2").contains("\"type\" : \"full\"")
                .contains("\"started\" : \"2026-11-21T02:00:00.123Z\"").contains("\"engineDetails\" : {");
        assertThat(ManifestCodec.read(new ByteArrayInputStream(json), "test")).isEqualTo(sample());
        // A manifest without details reads with an empty object.
        com.fasterxml.jackson.databind.node.ObjectNode none =
                (com.fasterxml.jackson.databind.node.ObjectNode) ManifestCodec.JSON.readTree(json);
        none.remove("engineDetails");
        assertThat(ManifestCodec.read(new ByteArrayInputStream(ManifestCodec.JSON.writeValueAsBytes(none)), "test")
                .engineDetails().isEmpty()).isTrue();
    }

    /** Version 1 kept PostgreSQL's contents and WAL range at the top level: read, they are the engine's details. */
    @Test
    void should_read_format_version_1_with_its_engine_fields_as_details() throws Exception {
        String v1 = """
                {"formatVersion": 1, "id": "20261121T020000Z-F", "job": "main", "engine": "postgresql",
                 "type": "full", "method": "physical", "parent": null, "started": "2026-11-21T02:00:00Z",
                 "finished": "2026-11-21T02:01:00Z", "sizeBytes": 10, "storedBytes": 5,
                 "compression": {"codec": "zstd", "level": 1}, "encryption": null,
                 "objects": [{"name": "base.tar.zst", "sizeBytes": 10, "storedBytes": 5, "sha256": "%s"}],
                 "tool": {"name": "pg_basebackup", "version": "15.20"}, "server": null, "database": "postgres",
                 "wal": {"timeline": 1, "start": "0/2000028", "stop": "0/2000100",
                         "startSegment": "000000010000000000000002", "stopSegment": "000000010000000000000002",
                         "segmentSize": 16777216},
                 "contents": null}
                """.formatted("ab".repeat(32));
        Manifest read = ManifestCodec.read(new ByteArrayInputStream(v1.getBytes(StandardCharsets.UTF_8)), "v1");
        assertThat(read.formatVersion()).isEqualTo(1);
        assertThat(read.engineDetails().get("wal").get("startSegment").asText()).isEqualTo("000000010000000000000002");
        assertThat(read.engineDetails().has("contents")).isFalse();
        // Written again, it is a version-2 manifest with the same details.
        Manifest rewritten = ManifestCodec.read(new ByteArrayInputStream(ManifestCodec.write(new Manifest(
                Manifest.FORMAT_VERSION, read.id(), read.job(), read.engine(), read.type(), read.method(), read.parent(),
                read.started(), read.finished(), read.sizeBytes(), read.storedBytes(), read.compression(),
                read.encryption(), read.objects(), read.tool(), read.server(), read.database(),
                read.engineDetails()))), "v2");
        assertThat(rewritten.engineDetails()).isEqualTo(read.engineDetails());
        // Version 1 had no engineDetails: one that claims to be version 1 and has them is damaged.
        String mixed = v1.replace("\"contents\": null", "\"engineDetails\": {}");
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(mixed.getBytes(StandardCharsets.UTF_8)),
                "'m.json'")).isInstanceOf(StowageException.class).hasMessageContaining("'m.json' is damaged");
    }

    @Test
    void should_hand_the_details_to_the_engine_check_and_call_the_manifest_damaged_when_it_objects() {
        byte[] json = ManifestCodec.write(sample());
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(json), "'m.json'",
                m -> m.engineDetails().has("contents") ? "its contents are wrong" : null))
                .isInstanceOf(StowageException.class).hasMessage("manifest 'm.json' is damaged: its contents are wrong");
        String notAnObject = new String(json, StandardCharsets.UTF_8).replaceFirst("\"engineDetails\" : \\{",
                "\"engineDetails\" : [ {").replaceFirst("\\}\\s*\\}\\s*$", "} ] }");
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(notAnObject.getBytes(
                StandardCharsets.UTF_8)), "'m.json'")).isInstanceOf(StowageException.class)
                .hasMessageContaining("'m.json' is damaged");
    }

    @Test
    void should_refuse_a_format_version_it_does_not_know() {
        String future = new String(ManifestCodec.write(sample()), StandardCharsets.UTF_8)
                .replace("\"formatVersion\" : 2", "\"formatVersion\" : 3");
        assertThatThrownBy(() -> ManifestCodec.read(new ByteArrayInputStream(future.getBytes()), "'m.json'"))
                .isInstanceOf(StowageException.class).hasMessageContaining("format version 3")
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
                "\"encryption\" : null", "\"encryption\" : {\"format\" : \"gpg\", \"recipients\" : []}");
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
