package io.stowage.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.testing.FaultProxy;
import io.stowage.testing.S3TestServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Every S3 call is bounded: against a real S3 server behind a proxy that stops answering (HANG), a metadata call
 * fails within its call timeout (the SDK's own retries included), is not retried again by the repository wrapper,
 * and says in one line which repository did not answer within how long; a data transfer is bounded by its transfer
 * timeout; a refused connection fails at once.
 */
class S3TimeoutTest {
    private static final S3Settings.Timeouts SHORT = new S3Settings.Timeouts(Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(6));

    private static Repository repository(FaultProxy proxy, String bucket, S3Client[] client) {
        S3Settings settings = new S3Settings(bucket, "", proxy.endpoint(), S3TestServer.REGION,
                S3Repository.MIN_PART_SIZE, true, SHORT);
        client[0] = settings.client();
        return new RetryingRepository(new S3Repository("s3-hang", client[0], bucket, "", settings.partSize(), true,
                settings.timeouts()), 3, Duration.ofMillis(500));
    }

    @Test
    void should_fail_a_metadata_call_within_the_call_timeout_when_s3_does_not_answer() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        S3Client[] client = new S3Client[1];
        try (FaultProxy proxy = FaultProxy.forS3()) {
            Repository repository = repository(proxy, bucket, client);
            assertThat(repository.list("job/")).isEmpty();
            proxy.mode(FaultProxy.Mode.HANG);
            for (String operation : new String[] {"check", "list", "exists", "delete"}) {
                long started = System.nanoTime();
                assertThatThrownBy(() -> {
                    switch (operation) {
                        case "check" -> repository.check();
                        case "list" -> repository.list("job/");
                        case "delete" -> repository.delete(java.util.List.of("job/x", "job/y"));
                        default -> repository.exists("job/x");
                    }
                }).isInstanceOfSatisfying(RepositoryTimeoutException.class, e -> {
                    assertThat(e.getMessage()).startsWith("repository 's3-hang' (s3://" + bucket + "/) did not answer "
                            + "within ").contains("HINT: ").doesNotContain("\n");
                    assertThat(e.getMessage()).containsAnyOf("within 3 s", "within 1 s");
                    assertThat(e.isTransient()).isFalse();
                });
                Duration took = Duration.ofNanos(System.nanoTime() - started);
                assertThat(took).as(operation).isLessThan(Duration.ofSeconds(5));
            }
        } finally {
            client[0].close();
        }
    }

    @Test
    void should_bound_a_transfer_by_its_transfer_timeout_when_s3_stops_answering() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        S3Client[] client = new S3Client[1];
        try (FaultProxy proxy = FaultProxy.forS3()) {
            Repository repository = repository(proxy, bucket, client);
            proxy.mode(FaultProxy.Mode.HANG);
            long started = System.nanoTime();
            assertThatThrownBy(() -> repository.write("job/20261121T020000Z-F/dump", out -> out.write(
                    new byte[S3Repository.SMALL_OBJECT + 1])))
                    .isInstanceOfSatisfying(RepositoryTimeoutException.class, e -> assertThat(e.getMessage())
                            .startsWith("repository 's3-hang' (s3://" + bucket + "/) did not answer within ")
                            .contains("(write 'job/20261121T020000Z-F/dump')"));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(9));

            // A small object (a manifest, an audit line) is bounded as a metadata call.
            long small = System.nanoTime();
            assertThatThrownBy(() -> repository.write("job/20261121T020000Z-F/manifest.json", out -> out.write('m')))
                    .isInstanceOfSatisfying(RepositoryTimeoutException.class, e -> assertThat(e.getMessage())
                            .containsAnyOf("did not answer within 3 s (write", "did not answer within 1 s (write"));
            assertThat(Duration.ofNanos(System.nanoTime() - small)).isLessThan(Duration.ofSeconds(5));
        } finally {
            client[0].close();
        }
    }

    @Test
    void should_fail_fast_when_s3_refuses_connections() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        S3Client[] client = new S3Client[1];
        try (FaultProxy proxy = FaultProxy.forS3()) {
            Repository repository = repository(proxy, bucket, client);
            proxy.mode(FaultProxy.Mode.REFUSE);
            long started = System.nanoTime();
            assertThatThrownBy(() -> repository.list("job/")).isInstanceOf(RepositoryException.class)
                    .isNotInstanceOf(RepositoryTimeoutException.class)
                    .hasMessageContaining("cannot list 'job/' in repository 's3-hang'");
            // The SDK's three quick attempts, then the wrapper's two retries after 0.5 s and 1 s.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
            assertThat(proxy.connections()).isGreaterThanOrEqualTo(3);
        } finally {
            client[0].close();
        }
    }
}
