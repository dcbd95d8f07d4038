package io.stowage.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.testing.LockHolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job lock excludes every other holder: another acquisition in this JVM (the service and an in-process command,
 * two exchanges) exactly like another process, which is a real second JVM here ({@link LockHolder}).
 */
class JobLockTest {
    @TempDir
    Path root;

    @Test
    void should_refuse_a_second_holder_in_this_jvm_and_keep_excluding_other_processes() throws Exception {
        try (JobLock held = JobLock.acquire(root, "postgres")) {
            assertThatThrownBy(() -> JobLock.acquire(root, "postgres"))
                    .isInstanceOf(StowageException.class)
                    .hasMessage("a backup of job 'postgres' is already running; HINT: wait for it to finish");
            // The refusal must not have cost this JVM its lock: another process is still kept out.
            assertThat(attempt("postgres")).startsWith("busy");
        }
        assertThat(attempt("postgres")).isEqualTo("acquired");
    }

    @Test
    void should_refuse_while_another_process_holds_it_and_take_it_once_released() throws Exception {
        try (LockHolder holder = LockHolder.hold(root.resolve("postgres/.lock"))) {
            assertThatThrownBy(() -> JobLock.acquire(root, "postgres"))
                    .isInstanceOf(StowageException.class).hasMessageContaining("already running");
            // A scheduled backup waits for it, up to its limit.
            assertThatThrownBy(() -> JobLock.acquire(root, "postgres", java.time.Duration.ofMillis(300)))
                    .isInstanceOf(StowageException.class).hasMessageContaining("already running");
            // Other jobs are not concerned.
            JobLock.acquire(root, "other").close();
        }
        try (JobLock mine = JobLock.acquire(root, "postgres")) {
            assertThat(attempt("postgres")).startsWith("busy");
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
        assertThat(attempt("postgres")).startsWith("busy");
        held.forEach(JobLock::close);
        assertThat(attempt("postgres")).isEqualTo("acquired");
    }

    @Test
    void should_not_release_a_newer_holder_when_an_old_lock_is_closed_again() throws Exception {
        // A retried backup closes its first attempt's lock, and the exchange's completion closes it once more.
        JobLock first = JobLock.acquire(root, "postgres");
        first.close();
        try (JobLock second = JobLock.acquire(root, "postgres")) {
            first.close();
            assertThatThrownBy(() -> JobLock.acquire(root, "postgres")).isInstanceOf(StowageException.class);
            assertThat(attempt("postgres")).startsWith("busy");
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

    @Test
    void should_let_a_waiting_backup_in_when_the_running_one_finishes() throws Exception {
        JobLock running = JobLock.acquire(root, "postgres");
        CompletableFuture<JobLock> next = new CompletableFuture<>();
        Thread waiting = new Thread(() -> {
            try {
                next.complete(JobLock.acquire(root, "postgres", java.time.Duration.ofMinutes(1)));
            } catch (Exception e) {
                next.completeExceptionally(e);
            }
        });
        waiting.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (waiting.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(next).as("waits while the running backup holds the lock").isNotDone();
        running.close();
        try (JobLock mine = next.get(60, TimeUnit.SECONDS)) {
            assertThat(attempt("postgres")).startsWith("busy");
        }
    }

    /** Whether a second JVM ({@link LockHolder}) can take the lock of {@code job} now. */
    private String attempt(String job) throws Exception {
        return LockHolder.attempt(root.resolve(job).resolve(".lock"));
    }
}
