package io.stowage.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.testing.LockHolder;
import io.stowage.testing.ThrowawayPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scratch server's lock: one per job, and nothing left in the temporary directory once it is let go. */
class ScratchLockTest {
    @TempDir
    Path dir;

    private Path root;

    @AfterEach
    void removeRoot() {
        ThrowawayPostgres.deleteTree(root);
    }

    @Test
    void should_leave_nothing_in_the_temporary_directory_and_admit_one_holder_per_job() throws Exception {
        // The default scratch root lives in the temporary directory.
        root = Path.of(System.getProperty("java.io.tmpdir")).resolve("stowage-scratch-lock-test-" + ProcessHandle
                .current().pid());
        ScratchLock.Root roots = () -> Files.createDirectories(root);
        try (ScratchLock first = ScratchLock.acquire(roots, "postgres")) {
            assertThat(root.resolve("postgres.lock")).exists();
            assertThatThrownBy(() -> ScratchLock.acquire(roots, "postgres")).isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another scratch restore of job 'postgres' is running");
            // The refused attempt did not cost the holder its lock: still nobody else gets it.
            assertThatThrownBy(() -> ScratchLock.acquire(roots, "postgres")).isInstanceOf(StowageException.class);
            try (ScratchLock other = ScratchLock.acquire(roots, "other")) {
                assertThat(other.root()).isEqualTo(root);
            }
            assertThat(root.resolve("other.lock")).doesNotExist();
            assertThat(root).as("another job's lock is still in it").exists();
        }
        assertThat(root).as("the lock file and the empty root are gone").doesNotExist();

        // Taken again after that: the root is made anew.
        try (ScratchLock again = ScratchLock.acquire(roots, "postgres")) {
            assertThat(root.resolve("postgres.lock")).exists();
        }
        assertThat(root).doesNotExist();
    }

    @Test
    void should_keep_other_processes_out_while_held_and_after_a_refused_attempt_here() throws Exception {
        Path own = Files.createDirectories(dir.resolve("scratch"));
        try (ScratchLock held = ScratchLock.acquire(() -> own, "postgres")) {
            assertThat(LockHolder.attempt(own.resolve("postgres.lock"))).isEqualTo("busy");
            assertThatThrownBy(() -> ScratchLock.acquire(() -> own, "postgres")).isInstanceOf(StowageException.class);
            assertThat(LockHolder.attempt(own.resolve("postgres.lock"))).isEqualTo("busy");
        }
        try (LockHolder other = LockHolder.hold(own.resolve("postgres.lock"))) {
            assertThatThrownBy(() -> ScratchLock.acquire(() -> own, "postgres")).isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another scratch restore of job 'postgres' is running");
        }
    }

    @Test
    void should_keep_an_operators_own_scratch_directory() throws Exception {
        Path own = Files.createDirectories(dir.resolve("scratch"));
        try (ScratchLock lock = ScratchLock.acquire(() -> own, "postgres")) {
            assertThat(own.resolve("postgres.lock")).exists();
        }
        assertThat(own).exists().isEmptyDirectory();
    }
}
