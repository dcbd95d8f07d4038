package io.stowage.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The prober's bookkeeping (pure logic, with a repository whose check the test holds and a clock the test moves): a
 * check in flight longer than its bound counts as down, "still checking"; no second check of a repository starts
 * while one is in flight; the result of a check that ends is what the status shows. Real repositories behind a
 * hanging S3 server: {@code service.RepositoryFaultTest}.
 */
class RepositoryProberTest {
    @Test
    void should_count_a_check_in_flight_beyond_its_bound_as_down_and_never_start_a_second_one() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        AtomicInteger checks = new AtomicInteger();
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Held held = new Held(() -> {
            checks.incrementAndGet();
            entered.countDown();
            release.await();
        });
        try (RepositoryProber prober = new RepositoryProber(List.of(held), Duration.ofHours(1), now::get)) {
            prober.start(Duration.ZERO);
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();

            assertThat(prober.statuses()).singleElement().satisfies(status -> {
                assertThat(status.up()).isFalse();
                assertThat(status.message()).isEqualTo("repository 'held' has not been checked yet");
            });
            now.addAndGet(Duration.ofSeconds(31).toNanos());
            prober.probeNow();
            assertThat(prober.problems()).containsExactly(java.util.Map.entry("held",
                    "repository 'held' did not answer within 30 s (still checking for 31 s)"));
            assertThat(prober.statuses().get(0).took()).isEqualTo(Duration.ofSeconds(31));
            assertThat(checks.get()).as("one check at a time").isEqualTo(1);

            release.countDown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!prober.statuses().get(0).up() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(prober.statuses().get(0).up()).isTrue();
            assertThat(prober.problems()).isEmpty();
            assertThat(prober.statuses().get(0).checkedAt()).isNotNull();
        }
    }

    @FunctionalInterface
    private interface Check {
        void run() throws Exception;
    }

    /** A repository whose check runs what the test gives it; nothing else is called by the prober. */
    private static final class Held implements Repository {
        private final Check check;

        Held(Check check) {
            this.check = check;
        }

        @Override
        public String name() {
            return "held";
        }

        @Override
        public String location() {
            return "held";
        }

        @Override
        public void check() throws IOException {
            try {
                check.run();
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }

        @Override
        public long write(String key, ObjectWriter writer) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void upload(String key, Path file) {
            throw new UnsupportedOperationException();
        }

        @Override
        public InputStream open(String key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean exists(String key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> list(String prefix) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> children(String directory) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void delete(String key) {
            throw new UnsupportedOperationException();
        }
    }
}
