package io.stowage.route;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The clean-up of interrupted backups: removes a backup directory without a manifest, keeps complete ones and the one
 * being written, and reads only backup-id directories, never the job's log archive (written beside it by the log
 * route, which the job's lock does not cover). Run on a real local repository, whose calls are recorded.
 */
class BeginStepTest {
    @TempDir
    Path dir;

    @Test
    void should_remove_incomplete_backups_without_reading_the_log_archive() throws Exception {
        LocalRepository local = new LocalRepository("local", dir.resolve("backups"));
        local.write("job/20261121T020000Z-F/dump.zst", out -> out.write(1));
        local.write("job/20261121T020000Z-F/manifest.json", out -> out.write(2));
        local.write("job/20261122T020000Z-F/dump.zst", out -> out.write(3));
        local.write("job/20261123T020000Z-F/dump.zst", out -> out.write(4));
        local.write("job/wal/000000010000000000000001.zst", out -> out.write(5));
        Files.write(dir.resolve("backups/job/wal/.000000010000000000000002.zst.sha256.tmp-1"), new byte[] {6});
        Recording recording = new Recording(local);

        BeginStep.removeIncomplete(recording, "job", "20261123T020000Z-F", null);

        assertThat(local.list("job/")).containsExactly("job/20261121T020000Z-F/dump.zst",
                "job/20261121T020000Z-F/manifest.json", "job/20261123T020000Z-F/dump.zst",
                "job/wal/000000010000000000000001.zst");
        assertThat(dir.resolve("backups/job/wal/.000000010000000000000002.zst.sha256.tmp-1")).exists();
        assertThat(recording.prefixes).isNotEmpty().noneMatch(prefix -> prefix.startsWith("job/wal"))
                .allMatch(prefix -> prefix.equals("job/") || prefix.matches("job/\\d{8}T\\d{6}Z-F/"));
    }

    @Test
    void should_leave_incomplete_backups_started_after_the_bound_which_another_host_may_still_be_writing()
            throws Exception {
        LocalRepository shared = new LocalRepository("nas", dir.resolve("shared"));
        shared.write("job/20261101T020000Z-F/dump.zst", out -> out.write(1));
        shared.write("job/20261130T020000Z-F/dump.zst", out -> out.write(2));

        BeginStep.removeIncomplete(shared, "job", null, java.time.Instant.parse("2026-11-29T00:00:00Z"));

        assertThat(shared.list("job/")).containsExactly("job/20261130T020000Z-F/dump.zst");
    }

    /** A real repository whose listings and clean-ups are recorded. */
    private static final class Recording extends io.stowage.testing.ForwardingRepository {
        final List<String> prefixes = new CopyOnWriteArrayList<>();

        Recording(Repository delegate) {
            super(delegate);
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            prefixes.add(prefix);
            return delegate.list(prefix);
        }

        @Override
        public List<String> children(String directory) throws IOException {
            prefixes.add(directory);
            return delegate.children(directory);
        }

        @Override
        public void cleanUpInterruptedWrites(String prefix) throws IOException {
            prefixes.add(prefix);
            delegate.cleanUpInterruptedWrites(prefix);
        }
    }
}
