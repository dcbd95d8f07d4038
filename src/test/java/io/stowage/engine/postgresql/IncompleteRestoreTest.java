package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.testing.LockHolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mark of a physical restore under way is also its lock: while one restore writes into a directory, no other
 * restore does, whether it runs in this JVM (the service's verification and an in-process command) or in another
 * process (a real second JVM here, {@link LockHolder}); and nothing this JVM does to the directory meanwhile (a second
 * restore refused, a look at the mark) lets another process in.
 */
class IncompleteRestoreTest {
    @TempDir
    Path dir;

    private static final Instant STARTED = Instant.parse("2026-11-21T02:00:00Z");
    private static final Manifest MANIFEST = new Manifest(Manifest.FORMAT_VERSION, "20261121T020000Z-F", "postgres",
            "postgresql", BackupType.FULL, "physical", null, STARTED, STARTED.plusSeconds(60), 1000, 300,
            new Manifest.Compression("zstd", 1), null, List.of(new Manifest.StoredObject("base.tar.zst", 1000, 300,
            "ab".repeat(32))), new Manifest.Tool("pg_basebackup", "15.20"), new Manifest.Server("15.20", Map.of()),
            null, null);

    @Test
    void should_refuse_a_second_restore_here_and_keep_other_processes_out() throws Exception {
        Path target = dir.resolve("data");
        Path marker = target.resolve(IncompleteRestore.MARKER);
        try (IncompleteRestore first = IncompleteRestore.begin(target, false, MANIFEST)) {
            assertThatThrownBy(() -> IncompleteRestore.begin(target, true, MANIFEST))
                    .isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another restore is writing into " + target);
            // The refused restore must not have cost the first one its lock.
            assertThat(LockHolder.attempt(marker)).isEqualTo("busy");
            assertThat(marker).exists();
        }
        assertThat(target).as("nothing was laid out: the mark and the directory made for it are gone")
                .doesNotExist();
    }

    @Test
    void should_keep_other_processes_out_while_another_restore_reads_the_mark() throws Exception {
        Path target = dir.resolve("data");
        try (IncompleteRestore first = IncompleteRestore.begin(target, false, MANIFEST)) {
            Files.writeString(target.resolve("PG_VERSION.partial"), "laid out");
            assertThatThrownBy(() -> IncompleteRestore.check(target, false))
                    .isInstanceOf(StowageException.class)
                    .hasMessageContaining("holds an incomplete restore")
                    .hasMessageContaining("backup " + MANIFEST.id() + " of job postgres");
            assertThat(LockHolder.attempt(target.resolve(IncompleteRestore.MARKER))).isEqualTo("busy");
        }
    }

    @Test
    void should_refuse_while_another_process_writes_into_the_directory() throws Exception {
        Path target = Files.createDirectories(dir.resolve("data"));
        Path marker = target.resolve(IncompleteRestore.MARKER);
        try (LockHolder other = LockHolder.hold(marker)) {
            assertThatThrownBy(() -> IncompleteRestore.begin(target, true, MANIFEST))
                    .isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another restore is writing into " + target.toRealPath());
            assertThat(marker).as("the other restore's mark stays").exists();
        }
        try (IncompleteRestore mine = IncompleteRestore.begin(target, true, MANIFEST)) {
            assertThat(LockHolder.attempt(marker)).isEqualTo("busy");
        }
    }
}
