package io.stowage.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.repository.LocalRepository;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog over real local repositories: a damaged manifest costs exactly the backup it describes, in exactly the
 * repository that holds it, and is named; {@code latest} never quietly means an older backup.
 */
class CatalogTest {
    private static final List<String> IDS = List.of("20261121T020000Z-F", "20261122T020000Z-F", "20261123T020000Z-F",
            "20261124T020000Z-F", "20261125T020000Z-F");

    @TempDir
    Path dir;

    private LocalRepository local;
    private LocalRepository nas;
    private final List<String> warnings = new ArrayList<>();

    @BeforeEach
    void fiveBackups() throws Exception {
        local = new LocalRepository("local", dir.resolve("local"));
        nas = new LocalRepository("nas", dir.resolve("nas"));
        for (String id : IDS) {
            for (LocalRepository repository : List.of(local, nas)) {
                repository.write(Catalog.objectKey("postgres", id, "dump.pgfc.zst"), out -> out.write(1));
                repository.write(Catalog.manifestKey("postgres", id), out -> out.write(ManifestCodec.write(manifest(id))));
            }
        }
    }

    static Manifest manifest(String id) {
        Instant started = Instant.parse(id.substring(0, 4) + "-" + id.substring(4, 6) + "-" + id.substring(6, 8)
                + "T02:00:00Z");
        return new Manifest(Manifest.FORMAT_VERSION, id, "postgres", "postgresql", BackupType.FULL, "logical", null,
                started, started.plusSeconds(60), 1000, 300, new Manifest.Compression("zstd", 1), null,
                List.of(new Manifest.StoredObject("dump.pgfc.zst", 1000, 300, "ab".repeat(32))),
                new Manifest.Tool("pg_dump", "15.20"), new Manifest.Server("15.20", Map.of()), "postgres", null);
    }

    private Path manifestFile(LocalRepository repository, String id) {
        return repository.file(Catalog.manifestKey("postgres", id));
    }

    private void truncate(LocalRepository repository, String id) throws Exception {
        Path file = manifestFile(repository, id);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    }

    private void futureVersion(LocalRepository repository, String id) throws Exception {
        Path file = manifestFile(repository, id);
        Files.writeString(file, Files.readString(file).replace("\"formatVersion\" : 2", "\"formatVersion\" : 99"));
    }

    private static List<String> ids(List<CatalogEntry> entries) {
        return entries.stream().map(CatalogEntry::id).toList();
    }

    @Test
    void should_skip_only_the_backup_whose_manifest_is_truncated_and_name_it() throws Exception {
        truncate(local, IDS.get(1));
        Catalog catalog = new Catalog(List.of(local));
        List<CatalogEntry> entries = catalog.list("postgres", warnings::add);
        assertThat(ids(entries)).containsExactly(IDS.get(0), IDS.get(2), IDS.get(3), IDS.get(4));
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0)).contains("backup " + IDS.get(1)).contains("job 'postgres'")
                .contains("repository 'local'").contains("not valid JSON").doesNotContain("repository 'local' skipped");
        assertThat(catalog.find("postgres", "latest", w -> { }).id()).isEqualTo(IDS.get(4));
    }

    @Test
    void should_skip_only_the_backup_whose_manifest_has_an_unknown_version_and_name_it() throws Exception {
        futureVersion(local, IDS.get(1));
        List<CatalogEntry> entries = new Catalog(List.of(local)).list(null, warnings::add);
        assertThat(ids(entries)).containsExactly(IDS.get(0), IDS.get(2), IDS.get(3), IDS.get(4));
        assertThat(warnings).singleElement().asString().contains("backup " + IDS.get(1)).contains("job 'postgres'")
                .contains("repository 'local'").contains("format version 99");
    }

    @Test
    void should_list_a_backup_from_the_repository_whose_manifest_is_sound_and_report_the_damaged_copy()
            throws Exception {
        truncate(local, IDS.get(2));
        futureVersion(nas, IDS.get(3));
        List<CatalogEntry> entries = new Catalog(List.of(local, nas)).list("postgres", warnings::add);
        assertThat(ids(entries)).isEqualTo(IDS);
        assertThat(entries.get(2).repositories()).containsExactly("nas");
        assertThat(entries.get(3).repositories()).containsExactly("local");
        assertThat(entries.get(4).repositories()).containsExactly("local", "nas");
        assertThat(warnings).hasSize(2);
        assertThat(warnings.get(0)).contains("backup " + IDS.get(2)).contains("repository 'local'");
        assertThat(warnings.get(1)).contains("backup " + IDS.get(3)).contains("repository 'nas'");
    }

    @Test
    void should_read_only_the_manifests_of_the_backup_a_restore_asks_for() throws Exception {
        truncate(local, IDS.get(1));
        futureVersion(nas, IDS.get(2));
        local.write(Catalog.objectKey("postgres", IDS.get(4), "verified-20261126T061500Z.json"), out -> out.write('{'));
        Catalog catalog = new Catalog(List.of(local, nas));
        CatalogEntry latest = catalog.find("postgres", "latest", warnings::add);
        assertThat(latest.id()).isEqualTo(IDS.get(4));
        assertThat(latest.repositories()).containsExactly("local", "nas");
        assertThat(latest.verified()).isEqualTo(java.time.Instant.parse("2026-11-26T06:15:00Z"));
        assertThat(warnings).as("the manifests of other backups are not read").isEmpty();

        CatalogEntry third = catalog.find("postgres", IDS.get(2), warnings::add);
        assertThat(third.repositories()).containsExactly("local");
        assertThat(third.verified()).isNull();
        assertThat(warnings).singleElement().asString().contains("backup " + IDS.get(2)).contains("repository 'nas'");
    }

    @Test
    void should_refuse_latest_when_the_newest_backup_cannot_be_read_anywhere() throws Exception {
        truncate(local, IDS.get(4));
        Catalog catalog = new Catalog(List.of(local));
        assertThatThrownBy(() -> catalog.find("postgres", "latest", warnings::add))
                .isInstanceOf(StowageException.class)
                .hasMessageStartingWith("the newest backup of job 'postgres', " + IDS.get(4) + ", cannot be read")
                .hasMessageContaining("HINT: ").hasMessageContaining("--backup " + IDS.get(3));
        assertThatThrownBy(() -> catalog.find("postgres", null, w -> { })).hasMessageContaining(IDS.get(4));
        // An older backup, asked for by its id, is still there to restore.
        assertThat(catalog.find("postgres", IDS.get(3), w -> { }).id()).isEqualTo(IDS.get(3));
    }

    @Test
    void should_report_every_damaged_copy_and_which_backups_no_repository_can_list() throws Exception {
        truncate(local, IDS.get(2));
        truncate(local, IDS.get(3));
        truncate(nas, IDS.get(3));
        CatalogListing listing = new Catalog(List.of(local, nas)).read("postgres", warnings::add);
        assertThat(listing.unreadable()).extracting(UnreadableManifest::id, UnreadableManifest::repository)
                .containsExactly(org.assertj.core.api.Assertions.tuple(IDS.get(2), "local"),
                        org.assertj.core.api.Assertions.tuple(IDS.get(3), "local"),
                        org.assertj.core.api.Assertions.tuple(IDS.get(3), "nas"));
        assertThat(listing.unlisted()).extracting(UnreadableManifest::id).containsExactly(IDS.get(3), IDS.get(3));
        assertThat(warnings).hasSize(3);
        // Not the newest: latest is the newest readable backup.
        assertThat(listing.find("postgres", "latest").id()).isEqualTo(IDS.get(4));
        assertThatThrownBy(() -> listing.find("postgres", IDS.get(3))).hasMessageStartingWith("backup '" + IDS.get(3)
                + "' of job 'postgres' not found: its manifest cannot be read in repository 'local'");
    }

    @Test
    void should_keep_what_a_damaged_manifest_holds_from_reaching_a_terminal() throws Exception {
        Manifest sound = manifest(IDS.get(1));
        Files.write(manifestFile(local, IDS.get(1)), ManifestCodec.write(new Manifest(sound.formatVersion(), sound.id(),
                "postgres\u001b[2J\u202e", sound.engine(), sound.type(), sound.method(), null, sound.started(),
                sound.finished(), 1000, 300, sound.compression(), null, sound.objects(), sound.tool(), sound.server(),
                sound.database(), null)));
        new Catalog(List.of(local)).list("postgres", warnings::add);
        assertThat(warnings).singleElement().asString().contains("backup " + IDS.get(1)).doesNotContain("\u001b")
                .doesNotContain("\u202e");
    }

    @Test
    void should_refuse_a_manifest_that_describes_another_backup_than_its_directory() throws Exception {
        Files.write(manifestFile(local, IDS.get(2)), ManifestCodec.write(manifest(IDS.get(0))));
        Files.writeString(manifestFile(local, IDS.get(3)), "null", StandardCharsets.UTF_8);
        List<CatalogEntry> entries = new Catalog(List.of(local)).list("postgres", warnings::add);
        assertThat(ids(entries)).containsExactly(IDS.get(0), IDS.get(1), IDS.get(4));
        assertThat(warnings).hasSize(2);
        assertThat(warnings.get(0)).contains("backup " + IDS.get(2)).contains(IDS.get(0));
        assertThat(warnings.get(1)).contains("backup " + IDS.get(3));
    }
}
