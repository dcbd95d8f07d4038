package io.stowage.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.testing.LockHolder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox lets one holder at a time keep or deliver alerts: another thread of this JVM (the service's timer and a
 * backup's own alerts) like another process (a command beside the service; a real second JVM here,
 * {@link LockHolder}). A holder that does not let go within the outbox's wait makes the caller fail, saying so, instead
 * of hanging with it.
 */
class AlertOutboxTest {
    @TempDir
    Path dir;

    private static final Duration BRIEF = Duration.ofMillis(200);

    private static BackupEvent failure(String job) {
        return new BackupEvent(BackupEvent.Kind.FAILURE, job, "postgresql", "full", null, "schedule",
                Instant.parse("2026-11-21T02:00:00Z"), Duration.ofSeconds(3), 0, 0, "pg_dump failed", 1, "critical",
                "db1");
    }

    @Test
    void should_keep_another_thread_out_while_one_delivers() throws Exception {
        Path outboxDir = dir.resolve(".alerts-outbox");
        AlertOutbox outbox = new AlertOutbox(outboxDir, BRIEF);
        outbox.keep("slack", failure("shop"));
        CountDownLatch sending = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        List<String> sent = new ArrayList<>();
        CompletableFuture<AlertOutbox.Report> delivery = CompletableFuture.supplyAsync(() -> {
            try {
                return outbox.deliver(channel -> true, (channel, event) -> {
                    sending.countDown();
                    answer.await();
                    sent.add(channel + " " + event.job());
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(sending.await(60, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> outbox.keep("slack", failure("crm"))).isInstanceOf(StowageException.class)
                .hasMessageStartingWith("the alert outbox " + outboxDir + " is busy");
        assertThatThrownBy(() -> new AlertOutbox(outboxDir, BRIEF).deliver(channel -> true, (channel, event) -> { }))
                .isInstanceOf(StowageException.class).hasMessageContaining("is busy");
        assertThat(LockHolder.attempt(outboxDir.resolve(".lock"))).isEqualTo("busy");
        answer.countDown();
        assertThat(delivery.get(60, TimeUnit.SECONDS).sent()).isEqualTo(1);
        assertThat(sent).containsExactly("slack shop");

        outbox.keep("slack", failure("crm"));
        assertThat(outbox.size()).isEqualTo(1);
    }

    @Test
    void should_wait_for_another_process_and_go_on_once_it_lets_go() throws Exception {
        Path outboxDir = dir.resolve(".alerts-outbox");
        AlertOutbox outbox = new AlertOutbox(outboxDir, BRIEF);
        outbox.keep("pagerduty", failure("shop"));
        try (LockHolder other = LockHolder.hold(outboxDir.resolve(".lock"))) {
            assertThatThrownBy(() -> outbox.keep("pagerduty", failure("crm"))).isInstanceOf(StowageException.class)
                    .hasMessageContaining("is busy");
            assertThatThrownBy(() -> outbox.deliver(channel -> true, (channel, event) -> { }))
                    .isInstanceOf(StowageException.class).hasMessageContaining("is busy");
        }
        outbox.keep("pagerduty", failure("crm"));
        List<String> sent = new ArrayList<>();
        assertThat(new AlertOutbox(outboxDir).deliver(channel -> true, (channel, event) -> sent.add(event.job()))
                .sent()).isEqualTo(2);
        assertThat(sent).containsExactly("shop", "crm");
    }
}
