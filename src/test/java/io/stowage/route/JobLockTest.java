package io.stowage.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job lock excludes every other holder: another acquisition in this JVM (the service and an in-process command,
 * two exchanges) exactly like another process, which is a real second JVM here ({@link JobLockHolder}).
 */
class JobLockTest {
    @TempDir
    Path root;

    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void stopChildren() throws Exception {
        for (Process child : children) {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void should_refuse_a_second_holder_in_this_jvm_and_keep_excluding_other_processes() throws Exception {
        try (JobLock held = JobLock.acquire(root, "postgres")) {
            assertThatThrownBy(() -> JobLock.acquire(root, "postgres"))
                    .isInstanceOf(StowageException.class)
                    .hasMessage("a backup of job 'postgres' is already running; HINT: wait for it to finish");
            // The refusal must not have cost this JVM its lock: another process is still kept out.
            assertThat(child("try", "postgres")).startsWith("busy");
        }
        assertThat(child("try", "postgres")).isEqualTo("acquired");
    }

    @Test
    void should_refuse_while_another_process_holds_it_and_take_it_once_released() throws Exception {
        Process holder = start("hold", "postgres");
        assertThat(JobLockHolder.firstLine(holder)).isEqualTo("held");
        assertThatThrownBy(() -> JobLock.acquire(root, "postgres"))
                .isInstanceOf(StowageException.class).hasMessageContaining("already running");
        // Other jobs are not concerned.
        JobLock.acquire(root, "other").close();

        holder.getOutputStream().close();
        assertThat(holder.waitFor(60, TimeUnit.SECONDS)).isTrue();
        try (JobLock mine = JobLock.acquire(root, "postgres")) {
            assertThat(child("try", "postgres")).startsWith("busy");
        }
    }

    @Test
    void should_let_exactly_one_of_many_threads_hold_it() throws Exception {
        int threads = 8;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger acquired = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<JobLock> held = java.util.Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> all = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        for (int i = 0; i < threads; i++) {
            all.add(CompletableFuture.runAsync(() -> {
                try {
                    go.await();
                    held.add(JobLock.acquire(root, "postgres"));
                    acquired.incrementAndGet();
                } catch (StowageException busy) {
                    refused.incrementAndGet();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, pool));
        }
        go.countDown();
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdown();
        }
        assertThat(acquired.get()).isEqualTo(1);
        assertThat(refused.get()).isEqualTo(threads - 1);
        assertThat(child("try", "postgres")).startsWith("busy");
        held.forEach(JobLock::close);
        assertThat(child("try", "postgres")).isEqualTo("acquired");
    }

    @Test
    void should_not_release_a_newer_holder_when_an_old_lock_is_closed_again() throws Exception {
        // A retried backup closes its first attempt's lock, and the exchange's completion closes it once more.
        JobLock first = JobLock.acquire(root, "postgres");
        first.close();
        try (JobLock second = JobLock.acquire(root, "postgres")) {
            first.close();
            assertThatThrownBy(() -> JobLock.acquire(root, "postgres")).isInstanceOf(StowageException.class);
            assertThat(child("try", "postgres")).startsWith("busy");
        }
    }

    @Test
    void should_keep_the_lock_file_and_its_directory_private() throws Exception {
        JobLock.acquire(root, "postgres").close();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("postgres"))))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("postgres/.lock"))))
                .isEqualTo("rw-------");
    }

    /** Runs {@link JobLockHolder} {@code try} and returns what it printed. */
    private String child(String mode, String job) throws Exception {
        Process process = start(mode, job);
        String line = JobLockHolder.firstLine(process);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return line;
    }

    private Process start(String mode, String job) throws Exception {
        Process process = JobLockHolder.start(mode, root.toString(), job);
        children.add(process);
        return process;
    }
}
