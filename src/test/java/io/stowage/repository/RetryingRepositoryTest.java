package io.stowage.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The retry wrapper's logic, against a repository that fails as it is told (pure logic: no storage involved). */
class RetryingRepositoryTest {
    private final List<Long> waits = new ArrayList<>();

    /** Fails each call with the next failure queued, then answers. */
    private static final class Scripted implements Repository {
        final Deque<RepositoryException> failures = new ArrayDeque<>();
        final AtomicInteger calls = new AtomicInteger();

        Scripted fail(int times, boolean transientFailure) {
            for (int i = 0; i < times; i++) {
                failures.add(new RepositoryException("failure " + (failures.size() + 1), null, transientFailure));
            }
            return this;
        }

        private void call() throws RepositoryException {
            calls.incrementAndGet();
            RepositoryException next = failures.poll();
            if (next != null) {
                throw next;
            }
        }

        @Override
        public String name() {
            return "scripted";
        }

        @Override
        public String location() {
            return "nowhere";
        }

        @Override
        public long write(String key, ObjectWriter writer) throws IOException {
            call();
            return 0;
        }

        @Override
        public void upload(String key, Path file) throws IOException {
            call();
        }

        @Override
        public InputStream open(String key) throws IOException {
            call();
            return new ByteArrayInputStream(new byte[] {1});
        }

        @Override
        public boolean exists(String key) throws IOException {
            call();
            return true;
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            call();
            return List.of("a");
        }

        @Override
        public List<String> children(String directory) throws IOException {
            call();
            return List.of("a/");
        }

        @Override
        public void delete(String key) throws IOException {
            call();
        }

        @Override
        public void check() throws IOException {
            call();
        }
    }

    private RetryingRepository retrying(Repository inner, int attempts, long delayMillis) {
        return new RetryingRepository(inner, attempts, Duration.ofMillis(delayMillis), waits::add);
    }

    @Test
    void should_retry_a_transient_failure_and_return_what_the_next_attempt_returns() throws IOException {
        Scripted inner = new Scripted().fail(2, true);

        assertThat(retrying(inner, 3, 100).list("")).containsExactly("a");

        assertThat(inner.calls).hasValue(3);
        assertThat(waits).containsExactly(100L, 200L);
    }

    @Test
    void should_pass_a_permanent_failure_at_once() {
        Scripted inner = new Scripted().fail(1, false);

        assertThatThrownBy(() -> retrying(inner, 5, 100).exists("k")).hasMessage("failure 1");

        assertThat(inner.calls).hasValue(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void should_pass_a_missing_object_at_once() {
        Scripted inner = new Scripted();
        inner.failures.add(new ObjectNotFoundException("scripted", "k"));

        assertThatThrownBy(() -> retrying(inner, 5, 100).open("k")).isInstanceOf(ObjectNotFoundException.class);
        assertThat(inner.calls).hasValue(1);
    }

    @Test
    void should_throw_the_last_failure_when_the_attempts_are_spent() {
        Scripted inner = new Scripted().fail(5, true);

        assertThatThrownBy(() -> retrying(inner, 3, 100).delete("k")).hasMessage("failure 3");

        assertThat(inner.calls).hasValue(3);
        assertThat(waits).containsExactly(100L, 200L);
    }

    @Test
    void should_bound_the_backoff_at_ten_seconds() throws IOException {
        Scripted inner = new Scripted().fail(7, true);

        retrying(inner, 8, 3_000).check();

        assertThat(waits).containsExactly(3_000L, 6_000L, 10_000L, 10_000L, 10_000L, 10_000L, 10_000L);
        assertThat(retrying(inner, 100, 3_000).delayAfter(60)).isEqualTo(10_000L);
    }

    @Test
    void should_never_retry_a_write_whose_stream_cannot_be_read_twice() {
        Scripted inner = new Scripted().fail(1, true);

        assertThatThrownBy(() -> retrying(inner, 3, 100).write("k", out -> out.write(1))).hasMessage("failure 1");

        assertThat(inner.calls).hasValue(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void should_retry_uploads_copies_and_listings_which_read_again_from_the_start() throws IOException {
        Scripted inner = new Scripted();
        RetryingRepository repository = retrying(inner, 2, 1);

        inner.fail(1, true);
        repository.upload("k", Path.of("f"));
        inner.fail(1, true);
        repository.children("");
        inner.fail(1, true);
        repository.open("k").close();
        inner.fail(1, true);
        repository.copy("k", new Scripted(), null);

        assertThat(inner.calls).as("each call twice").hasValue(8);
        assertThat(waits).hasSize(4);
    }

    @Test
    void should_stop_retrying_when_the_wait_is_interrupted() {
        Scripted inner = new Scripted().fail(3, true);
        RetryingRepository repository = new RetryingRepository(inner, 3, Duration.ofMillis(1), millis -> {
            throw new InterruptedException();
        });

        assertThatThrownBy(() -> repository.list("")).hasMessage("failure 1");
        assertThat(Thread.interrupted()).isTrue();
        assertThat(inner.calls).hasValue(1);
    }
}
