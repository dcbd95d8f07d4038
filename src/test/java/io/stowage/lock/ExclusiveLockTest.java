package io.stowage.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.testing.LockHolder;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one lock every Stowage lock is built on: it excludes other holders in this JVM exactly like other processes (a
 * real second JVM here, {@link LockHolder}), whatever this JVM does with the file meanwhile.
 */
class ExclusiveLockTest {
    @TempDir
    Path dir;

    @Test
    void should_refuse_a_second_holder_here_under_any_spelling_and_keep_other_processes_out() throws Exception {
        Path file = dir.resolve("job.lock");
        Path link = Files.createSymbolicLink(dir.resolve("alias"), dir);
        try (ExclusiveLock held = ExclusiveLock.tryAcquire(file).orElseThrow()) {
            assertThat(held.created()).isTrue();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            assertThat(ExclusiveLock.tryAcquire(file)).isEmpty();
            assertThat(ExclusiveLock.tryAcquire(link.resolve("job.lock"))).isEmpty();
            held.describe("pid=1\n");
            assertThat(ExclusiveLock.holder(link.resolve("job.lock"))).isEqualTo("pid=1\n");
            assertThat(LockHolder.attempt(file)).isEqualTo("busy");
        }
        try (ExclusiveLock again = ExclusiveLock.tryAcquire(file).orElseThrow()) {
            assertThat(again.created()).isFalse();
        }
        assertThat(LockHolder.attempt(file)).isEqualTo("acquired");
    }

    @Test
    void should_wait_for_another_process_up_to_its_limit() throws Exception {
        Path file = dir.resolve("outbox.lock");
        try (LockHolder other = LockHolder.hold(file)) {
            assertThat(ExclusiveLock.acquire(file, Duration.ofMillis(300))).isEmpty();
        }
        Optional<ExclusiveLock> mine = ExclusiveLock.acquire(file, Duration.ofMinutes(1));
        assertThat(mine).isPresent();
        mine.get().close();
    }

    @Test
    void should_leave_no_file_behind_when_deleted_on_release_and_make_it_anew() throws Exception {
        Path file = dir.resolve("scratch.lock");
        ExclusiveLock first = ExclusiveLock.tryAcquire(file).orElseThrow();
        first.closeAndDelete();
        assertThat(file).doesNotExist();
        first.closeAndDelete(); // released already: nothing happens to whatever is there now
        try (ExclusiveLock second = ExclusiveLock.tryAcquire(file).orElseThrow()) {
            assertThat(second.created()).isTrue();
            first.closeAndDelete();
            assertThat(file).exists();
            assertThat(LockHolder.attempt(file)).isEqualTo("busy");
        }
        assertThat(LockHolder.attempt(file)).isEqualTo("acquired");
    }

    @Test
    void should_refuse_a_link_in_place_of_the_lock_file() throws Exception {
        Path elsewhere = Files.writeString(dir.resolve("precious"), "keep me");
        Path file = Files.createSymbolicLink(dir.resolve("restore.lock"), elsewhere);
        assertThatThrownBy(() -> ExclusiveLock.tryAcquire(file)).isInstanceOf(FileSystemException.class)
                .hasMessageContaining("not a regular file");
        ExclusiveLock.holder(file);
        assertThat(Files.readString(elsewhere)).isEqualTo("keep me");
    }
}
