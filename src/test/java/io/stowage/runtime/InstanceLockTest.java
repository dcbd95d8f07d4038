package io.stowage.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.lock.ExclusiveLock;
import io.stowage.testing.LockHolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who holds a local repository, as the refusal of a second service says it: never a process that is gone. The holder
 * is a real second JVM holding the OS lock ({@link LockHolder}), as a service that has just taken the lock and not
 * yet written its description would.
 */
class InstanceLockTest {
    @TempDir
    Path repository;

    @Test
    void should_not_name_a_dead_process_left_in_the_lock_file_as_the_running_service() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Path file = repository.resolve(InstanceLock.FILE);
        Files.writeString(file, "pid=" + gone.pid() + "\nhost=" + AuditLog.host() + "\nstarted=2020-01-01T00:00:00Z\n");
        try (LockHolder holder = LockHolder.hold(file)) {
            assertThatThrownBy(() -> InstanceLock.acquire(repository))
                    .isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another stowage service (pid unknown) is running on local repository "
                            + repository.toRealPath() + "; HINT: ");
        }
        // Once the holder is gone, the lock is free: this one takes it and describes itself.
        try (ExclusiveLock mine = InstanceLock.acquire(repository)) {
            assertThat(ExclusiveLock.holder(file)).contains("pid=" + ProcessHandle.current().pid() + "\n");
        }
        assertThat(Files.readString(file)).contains("pid=" + ProcessHandle.current().pid() + "\n");
    }

    @Test
    void should_refuse_a_second_service_in_this_jvm_and_keep_other_processes_out() throws Exception {
        Path nested = repository.resolve("not-yet-made");
        try (ExclusiveLock mine = InstanceLock.acquire(nested)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(nested))).isEqualTo("rwx------");
            assertThatThrownBy(() -> InstanceLock.acquire(nested))
                    .isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another stowage service (pid " + ProcessHandle.current().pid()
                            + ", started ");
            assertThat(LockHolder.attempt(nested.resolve(InstanceLock.FILE))).isEqualTo("busy");
        }
        assertThat(LockHolder.attempt(nested.resolve(InstanceLock.FILE))).isEqualTo("acquired");
    }
}
