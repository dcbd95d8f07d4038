package io.stowage.repository;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.testing.S3TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/** The repository contract, and what only S3 promises, run against {@link S3Repository} on the in-JVM S3 server. */
class S3RepositoryTest extends RepositoryContract {
    private final S3TestServer server = S3TestServer.get();
    private String bucket;
    private String prefix;
    private S3Client client;
    private S3Repository repository;

    @BeforeEach
    void createRepository() {
        bucket = server.createBucket();
        prefix = "p" + UUID.randomUUID().toString().replace("-", "").substring(0, 10) + "/";
        S3Settings settings = server.settings(bucket, prefix);
        client = settings.client();
        repository = new S3Repository("s3", client, bucket, prefix, settings.partSize());
    }

    @AfterEach
    void closeClient() {
        client.close();
    }

    @Override
    protected Repository repository() {
        return repository;
    }

    private List<String> objectKeysInBucket() {
        return server.client().listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).build())
                .contents().stream().map(S3Object::key).toList();
    }

    private List<MultipartUpload> pendingUploads() {
        return server.client().listMultipartUploads(ListMultipartUploadsRequest.builder().bucket(bucket).build())
                .uploads();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void should_store_objects_under_the_prefix_in_the_bucket() throws IOException {
        repository.write("job/20261121T020000Z-F/manifest.json", out -> out.write("{}".getBytes(UTF_8)));
        repository.write("big", out -> out.write(randomBytes(LARGE, 5)));

        assertThat(objectKeysInBucket()).containsExactly(prefix + "big", prefix + "job/20261121T020000Z-F/manifest.json");
        assertThat(repository.objectKey("job/x")).isEqualTo(prefix + "job/x");
        assertThat(repository.location()).isEqualTo("s3://" + bucket + "/" + prefix);
    }

    @Test
    void should_not_list_objects_of_the_bucket_outside_the_prefix() throws IOException {
        S3Repository sibling = new S3Repository("s3", client, bucket, prefix.substring(0, prefix.length() - 1) + "x/",
                S3Repository.MIN_PART_SIZE);
        sibling.write("job/a", out -> out.write(1));
        repository.write("job/b", out -> out.write(2));

        assertThat(repository.list("")).containsExactly("job/b");
        assertThat(sibling.list("")).containsExactly("job/a");
        assertThat(repository.exists("job/a")).isFalse();
    }

    @Test
    void should_fail_check_on_a_missing_bucket() {
        S3Repository missing = new S3Repository("s3", client, "no-such-bucket-" + UUID.randomUUID().toString()
                .substring(0, 8), prefix, S3Repository.MIN_PART_SIZE);

        assertThatThrownBy(missing::check)
                .isInstanceOf(RepositoryException.class)
                .hasMessageContaining("does not exist")
                .hasMessageContaining(missing.bucket())
                .hasMessageContaining("'s3'");
    }

    @Test
    void should_fail_with_cannot_reach_s3_when_nothing_listens() throws IOException {
        String endpoint = "http://127.0.0.1:" + freePort();
        try (S3Client unreachable = S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
                .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD))
                .build()) {
            S3Repository nowhere = new S3Repository("s3", unreachable, bucket, prefix, S3Repository.MIN_PART_SIZE);
            long start = System.nanoTime();

            assertThatThrownBy(() -> nowhere.write("job/a", out -> out.write(1)))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("cannot reach S3")
                    .hasMessageContaining("'s3'")
                    .hasMessageContaining("job/a");
            assertThatThrownBy(() -> nowhere.list("job/"))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("cannot reach S3")
                    .hasMessageContaining("'s3'");
            assertThatThrownBy(() -> nowhere.open("job/a"))
                    .isInstanceOf(RepositoryException.class)
                    .isNotInstanceOf(ObjectNotFoundException.class)
                    .hasMessageContaining("cannot reach S3");
            assertThatThrownBy(nowhere::check)
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("cannot reach S3");

            assertThat(System.nanoTime() - start).as("fails fast").isLessThan(30_000_000_000L);
        }
    }

    @Test
    void should_abort_the_multipart_upload_when_the_writer_fails_half_way() throws IOException {
        IOException boom = new IOException("writer failed after 7 MiB");
        int[] pendingDuringWrite = {-1};

        assertThatThrownBy(() -> repository.write("job/big.bin", out -> {
            out.write(randomBytes(7 * 1024 * 1024, 11));
            pendingDuringWrite[0] = pendingUploads().size();
            throw boom;
        })).isSameAs(boom);

        assertThat(pendingDuringWrite[0]).as("a multipart upload was under way").isEqualTo(1);
        assertThat(pendingUploads()).isEmpty();
        assertThat(objectKeysInBucket()).isEmpty();
        assertThat(repository.exists("job/big.bin")).isFalse();
    }

    @Test
    void should_keep_the_earlier_object_when_a_multipart_overwrite_fails_half_way() throws IOException {
        byte[] earlier = randomBytes(LARGE, 13);
        repository.write("job/big.bin", out -> out.write(earlier));

        assertThatThrownBy(() -> repository.write("job/big.bin", out -> {
            out.write(randomBytes(11 * 1024 * 1024, 17));
            throw new IOException("writer failed");
        })).hasMessage("writer failed");

        assertThat(read(repository, "job/big.bin")).isEqualTo(earlier);
        assertThat(pendingUploads()).isEmpty();
    }
}
