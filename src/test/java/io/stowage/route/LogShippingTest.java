package io.stowage.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The backoff of a log-shipping route after failed attempts (pure arithmetic and state; the route is tested whole in WalShippingOrderTest). */
class LogShippingTest {
    @Test
    void should_double_the_wait_after_each_failure_up_to_the_bound() {
        Duration delay = Duration.ofSeconds(1);
        Duration max = Duration.ofSeconds(60);
        assertThat(LogShipping.backoff(1, delay, max)).isEqualTo(Duration.ofSeconds(1));
        assertThat(LogShipping.backoff(2, delay, max)).isEqualTo(Duration.ofSeconds(2));
        assertThat(LogShipping.backoff(6, delay, max)).isEqualTo(Duration.ofSeconds(32));
        assertThat(LogShipping.backoff(7, delay, max)).isEqualTo(Duration.ofSeconds(60));
        assertThat(LogShipping.backoff(10_000, delay, max)).isEqualTo(Duration.ofSeconds(60));
        // A bound below the first delay: the first delay wins, every time.
        assertThat(LogShipping.backoff(5, Duration.ofSeconds(5), Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void should_hold_polls_back_until_the_wait_is_over_and_release_them_on_success() {
        LogShipping.Route route = new LogShipping.Route();
        long now = System.nanoTime();
        assertThat(route.mayAttempt(now)).isTrue();
        Duration wait = route.failed("pg", "000000010000000000000001", "s3 down", Duration.ofSeconds(30),
                Duration.ofMinutes(1));
        assertThat(wait).isEqualTo(Duration.ofSeconds(30));
        assertThat(route.mayAttempt(System.nanoTime())).isFalse();
        assertThat(route.mayAttempt(System.nanoTime() + Duration.ofSeconds(31).toNanos())).isTrue();
        assertThat(route.failed("pg", "000000010000000000000001", "s3 down", Duration.ofSeconds(30),
                Duration.ofMinutes(1))).isEqualTo(Duration.ofMinutes(1));
        assertThat(route.failures()).isEqualTo(2);
        route.shipped("pg", "000000010000000000000001");
        assertThat(route.failures()).isZero();
        assertThat(route.mayAttempt(System.nanoTime())).isTrue();
        // Another file's failure starts its own count.
        route.failed("pg", "000000010000000000000001", "x", Duration.ofSeconds(1), Duration.ofMinutes(1));
        route.failed("pg", "000000010000000000000002", "x", Duration.ofSeconds(1), Duration.ofMinutes(1));
        assertThat(route.failures()).isEqualTo(1);
    }
}
