package io.stowage.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.testing.DeleteObjectsFaultProxy;
import io.stowage.testing.FlakyTcpProxy;
import io.stowage.testing.S3TestServer;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The repository contract, run against an S3 repository wrapped for retries; and the wrapper against a real S3 server
 * that goes away and comes back (S3Proxy behind a proxy that refuses connections), with the SDK's own retries off so
 * that only the wrapper retries.
 */
class RetryingS3RepositoryTest extends RepositoryContract {
    private final S3TestServer server = S3TestServer.get();
    private String bucket;
    private String prefix;
    private S3Client client;
    private Repository repository;

    @BeforeEach
    void createRepository() {
        bucket = server.createBucket();
        prefix = "r" + UUID.randomUUID().toString().replace("-", "").substring(0, 10) + "/";
        S3Settings settings = server.settings(bucket, prefix);
        client = settings.client();
        repository = new RetryingRepository(new S3Repository("s3", client, bucket, prefix, settings.partSize()), 3,
                Duration.ofMillis(1));
    }

    @AfterEach
    void closeClient() {
        client.close();
    }

    @Override
    protected Repository repository() {
        return repository;
    }

    private static S3Client withoutRetries(String endpoint) {
        return S3Client.builder().endpointOverride(URI.create(endpoint)).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    @Test
    void should_retry_a_server_that_was_away_and_succeed_when_it_is_back() throws IOException {
        repository.write("job/20261121T020000Z-F/manifest.json", out -> out.write('x'));
        try (FlakyTcpProxy proxy = new FlakyTcpProxy(URI.create(server.endpoint()).getPort(), Long.MAX_VALUE);
             S3Client proxied = withoutRetries(proxy.endpoint())) {
            List<Long> waits = new ArrayList<>();
            Repository flaky = new RetryingRepository(new S3Repository("s3", proxied, bucket, prefix,
                    S3Repository.MIN_PART_SIZE), 3, Duration.ofMillis(5), millis -> {
                waits.add(millis);
                proxy.down(false);
            });
            proxy.down(true);

            assertThat(flaky.list("job/")).containsExactly("job/20261121T020000Z-F/manifest.json");
            assertThat(waits).as("one retry, after the first delay").containsExactly(5L);
        }
    }

    @Test
    void should_give_up_after_the_attempts_with_the_last_transient_failure() throws IOException {
        try (FlakyTcpProxy proxy = new FlakyTcpProxy(URI.create(server.endpoint()).getPort(), Long.MAX_VALUE);
             S3Client proxied = withoutRetries(proxy.endpoint())) {
            List<Long> waits = new ArrayList<>();
            Repository flaky = new RetryingRepository(new S3Repository("s3", proxied, bucket, prefix,
                    S3Repository.MIN_PART_SIZE), 3, Duration.ofMillis(5), waits::add);
            proxy.down(true);

            assertThatThrownBy(() -> flaky.exists("job/a")).isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("cannot reach S3").hasMessageContaining("'s3'")
                    .matches(e -> ((RepositoryException) e).isTransient());
            assertThat(waits).containsExactly(5L, 10L);
        }
    }

    /** 1,200 keys: two DeleteObjects requests, the first of them answered with per-key errors. */
    private List<String> manyKeys() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1200; i++) {
            keys.add((i % 2 == 0 ? "job/wal/" : "job/20261121T020000Z-F/") + String.format("%04d", i));
        }
        putAll(repository, keys);
        return keys;
    }

    @Test
    void should_retry_a_delete_whose_keys_s3_reported_as_slow_down_in_a_200_and_finish_it() throws Exception {
        List<String> keys = manyKeys();
        put(repository, "job/wal/kept", "k");
        try (DeleteObjectsFaultProxy proxy = new DeleteObjectsFaultProxy();
             S3Client proxied = withoutRetries(proxy.endpoint())) {
            List<Long> waits = new ArrayList<>();
            Repository throttled = new RetryingRepository(new S3Repository("s3", proxied, bucket, prefix,
                    S3Repository.MIN_PART_SIZE), 3, Duration.ofMillis(5), waits::add);
            proxy.failKeys(1, key -> key.endsWith("7") ? "SlowDown" : null);

            throttled.delete(keys);

            assertThat(waits).as("one retry, after the first delay").containsExactly(5L);
            assertThat(proxy.deleteRequests()).as("the whole list sent again").containsExactly(1000, 200, 1000, 200);
            assertThat(repository.list("")).containsExactly("job/wal/kept");
        }
    }

    @Test
    void should_retry_a_delete_that_s3_refused_whole_with_503_slow_down_and_finish_it() throws Exception {
        List<String> keys = manyKeys();
        try (DeleteObjectsFaultProxy proxy = new DeleteObjectsFaultProxy();
             S3Client proxied = withoutRetries(proxy.endpoint())) {
            List<Long> waits = new ArrayList<>();
            Repository throttled = new RetryingRepository(new S3Repository("s3", proxied, bucket, prefix,
                    S3Repository.MIN_PART_SIZE), 3, Duration.ofMillis(5), waits::add);
            proxy.failRequest(2, 503, "SlowDown");

            throttled.delete(keys);

            assertThat(waits).containsExactly(5L, 10L);
            assertThat(proxy.deleteRequests()).containsExactly(1000, 1000, 1000, 200);
            assertThat(repository.list("")).isEmpty();
        }
    }

    @Test
    void should_not_retry_a_delete_of_keys_s3_refused_for_good() throws Exception {
        put(repository, "job/a", "a");
        put(repository, "job/b", "b");
        try (DeleteObjectsFaultProxy proxy = new DeleteObjectsFaultProxy();
             S3Client proxied = withoutRetries(proxy.endpoint())) {
            List<Long> waits = new ArrayList<>();
            Repository locked = new RetryingRepository(new S3Repository("s3", proxied, bucket, prefix,
                    S3Repository.MIN_PART_SIZE), 3, Duration.ofMillis(5), waits::add);
            proxy.failKeys(3, key -> key.endsWith("/a") ? "AccessDenied" : "SlowDown");

            assertThatThrownBy(() -> locked.delete(List.of("job/a", "job/b")))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageStartingWith("cannot delete 'job/a' in repository 's3'")
                    .hasMessageEndingWith("(2 of 2 keys not deleted)")
                    .matches(e -> !((RepositoryException) e).isTransient());
            assertThat(waits).isEmpty();
            assertThat(repository.list("")).containsExactly("job/a", "job/b");
        }
    }

    @Test
    void should_not_retry_a_permanent_failure() {
        List<Long> waits = new ArrayList<>();
        Repository missing = new RetryingRepository(new S3Repository("s3", client, "no-such-bucket-"
                + UUID.randomUUID().toString().substring(0, 8), prefix, S3Repository.MIN_PART_SIZE), 3,
                Duration.ofMillis(5), waits::add);

        assertThatThrownBy(missing::check).isInstanceOf(RepositoryException.class)
                .hasMessageContaining("does not exist");
        assertThat(waits).isEmpty();
    }
}
