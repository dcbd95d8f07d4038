package io.stowage.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.route.JobLockHolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who holds a local repository, as the refusal of a second service says it: never a process that is gone. The holder
 * is a real second JVM holding the OS lock ({@link JobLockHolder}), as a service that has just taken the lock and not
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
        Process holder = JobLockHolder.start("hold-file", file.toString());
        try {
            assertThat(JobLockHolder.firstLine(holder)).isEqualTo("held");
            assertThatThrownBy(() -> InstanceLock.acquire(repository))
                    .isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("another stowage service (pid unknown) is running on local repository "
                            + repository.toRealPath() + "; HINT: ");
        } finally {
            holder.destroyForcibly();
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        // Once the holder is gone, the lock is free: this one takes it and describes itself.
        try (ExclusiveLock mine = InstanceLock.acquire(repository)) {
            assertThat(ExclusiveLock.holder(file)).contains("pid=" + ProcessHandle.current().pid() + "\n");
        }
        assertThat(Files.readString(file)).contains("pid=" + ProcessHandle.current().pid() + "\n");
    }
}
