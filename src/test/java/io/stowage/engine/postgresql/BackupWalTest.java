package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.repository.LocalRepository;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The WAL a physical backup needs, and whether an archive in a real local repository holds it. */
class BackupWalTest {
    private static final long SEGMENT = 16L * 1024 * 1024;

    @TempDir
    Path dir;

    private static Manifest physical(String start, String stop, long segmentSize) {
        Instant at = Instant.parse("2026-11-21T02:00:00Z");
        return new Manifest(Manifest.FORMAT_VERSION, "20261121T020000Z-F", "main", "postgresql", BackupType.FULL,
                "physical", null, at, at.plusSeconds(60), 1000, 300, new Manifest.Compression("zstd", 1), null,
                List.of(new Manifest.StoredObject("base.tar.zst", 1000, 300, "ab".repeat(32))),
                new Manifest.Tool("pg_basebackup", "15.20"), new Manifest.Server("15.20", Map.of()), "postgres",
                io.stowage.catalog.ManifestCodec.JSON.valueToTree(PgDetails.of(new PgDetails.Wal(1, "0/FE000028",
                        "1/1000100", start, stop, segmentSize), null)));
    }

    @Test
    void should_step_through_segment_names_across_a_log_file_boundary() {
        assertThat(BackupWal.segments(physical("0000000100000000000000FE", "000000010000000100000001", SEGMENT)))
                .containsExactly("0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000",
                        "000000010000000100000001");
        assertThat(BackupWal.segments(physical("000000020000000000000003", "000000020000000000000003", SEGMENT)))
                .containsExactly("000000020000000000000003");
    }

    @Test
    void should_refuse_a_range_no_backup_can_have() {
        for (Manifest damaged : List.of(physical("000000010000000000000005", "000000010000000000000004", SEGMENT),
                physical("000000010000000000000004", "000000020000000000000005", SEGMENT),
                physical("000000010000000000000004", "000000010000000000000005", 0),
                physical("000000010000000000000004", "000000010000000000000005", 3 * 1024 * 1024),
                physical("000000010000000000000004", "00000001FFFFFFFF000000FF", SEGMENT),
                physical("not a segment", "000000010000000000000005", SEGMENT))) {
            assertThatThrownBy(() -> BackupWal.segments(damaged)).isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("the manifest of backup 20261121T020000Z-F of job 'main' is damaged");
        }
    }

    @Test
    void should_count_only_complete_archived_segments_listing_each_archive_once() throws Exception {
        LocalRepository local = new LocalRepository("local", dir.resolve("local"));
        LocalRepository nas = new LocalRepository("nas", dir.resolve("nas"));
        for (String name : List.of("0000000100000000000000FE.zst", "0000000100000000000000FE.zst.sha256",
                "0000000100000000000000FF.zst.age.sha256", "000000010000000100000000.partial.zst",
                "000000010000000100000001.zst", "00000002.history.zst")) {
            local.write("main/wal/" + name, out -> out.write(1));
        }
        local.write("main/wal-partial/0000000100000000000000FF.partial.zst", out -> out.write(1));
        for (String name : List.of("0000000100000000000000FE.zst.age", "0000000100000000000000FF.zst.age",
                "000000010000000100000000.lz4", "000000010000000100000001.zst")) {
            nas.write("main/wal/" + name, out -> out.write(1));
        }
        Manifest manifest = physical("0000000100000000000000FE", "000000010000000100000001", SEGMENT);
        BackupWal wal = new BackupWal();
        assertThat(wal.missing(local, manifest)).as("a checksum file or a partial copy is no segment")
                .containsExactly("0000000100000000000000FF", "000000010000000100000000");
        assertThat(wal.missing(nas, manifest)).isEmpty();

        List<String> warnings = new ArrayList<>();
        io.stowage.engine.LogArchive.Coverage coverage = wal.coverage(new CatalogEntry(manifest, List.of("local", "nas"), null),
                List.of(local, nas), warnings::add);
        assertThat(coverage.complete()).containsExactly("nas");
        assertThat(coverage.missing()).containsOnlyKeys("local");
        assertThat(warnings).isEmpty();
        // Listed once: a segment archived after the first question is seen by a new instance only.
        nas.delete("main/wal/0000000100000000000000FF.zst.age");
        assertThat(wal.missing(nas, manifest)).isEmpty();
        assertThat(new BackupWal().missing(nas, manifest)).containsExactly("0000000100000000000000FF");
        // What else needs the archive's listing (check's gaps, verification's checksums) reads that same one.
        assertThat(wal.archive(nas, "main")).contains("main/wal/0000000100000000000000FF.zst.age");
        assertThat(BackupWal.gaps(wal.archive(nas, "main"), "0000000100000000000000FE", SEGMENT))
                .isEmpty();
        assertThat(BackupWal.gaps(new BackupWal().archive(nas, "main"),
                "0000000100000000000000FE", SEGMENT)).containsExactly("0000000100000000000000FF");
    }

    @Test
    void should_name_few_segments_all_and_many_by_their_ends() {
        assertThat(BackupWal.describeSegments(List.of("A", "B"))).isEqualTo("A, B");
        assertThat(BackupWal.describeSegments(List.of("A", "B", "C", "D", "E", "F"))).isEqualTo("A, B ... F (6 segments)");
    }
}
