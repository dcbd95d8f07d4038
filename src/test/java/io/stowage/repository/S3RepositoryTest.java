package io.stowage.repository;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.testing.FlakyTcpProxy;
import io.stowage.testing.S3TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.GetObjectAttributesResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.ObjectAttributes;
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
    void should_upload_in_the_storage_class_asked_for_and_refuse_an_unknown_one() throws IOException {
        Path file = Files.createTempFile("stowage-storage-class", ".bin");
        try {
            Files.write(file, randomBytes(1024, 9));
            repository.upload("job/ia", file, "STANDARD_IA");
            repository.upload("job/default", file, null);
            assertThat(server.client().headObject(HeadObjectRequest.builder().bucket(bucket).key(prefix + "job/ia")
                    .build()).storageClassAsString()).isEqualTo("STANDARD_IA");
            // A multipart upload asks for the class when it is created (S3Proxy does not record it for multipart
            // uploads, so the request itself is checked).
            List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
            try (S3Client watched = clientWith(server.endpoint(), new ExecutionInterceptor() {
                @Override
                public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                    if (context.httpRequest().rawQueryParameters().containsKey("uploads")) {
                        asked.add(context.httpRequest().firstMatchingHeader("x-amz-storage-class").orElse("none"));
                    }
                }
            })) {
                new S3Repository("s3", watched, bucket, prefix, S3Repository.MIN_PART_SIZE)
                        .upload("job/multipart-ia", writeLarge(file), "GLACIER_IR");
            }
            assertThat(asked).containsExactly("GLACIER_IR");
            assertThat(server.client().headObject(HeadObjectRequest.builder().bucket(bucket).key(prefix + "job/default")
                    .build()).storageClassAsString()).isIn(null, "STANDARD");
            assertThatThrownBy(() -> repository.upload("job/x", file, "COLD_STORAGE"))
                    .isInstanceOf(io.stowage.StowageException.class)
                    .hasMessageStartingWith("'COLD_STORAGE' is not an S3 storage class");
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(file.resolveSibling(file.getFileName() + ".large"));
        }
    }

    private static Path writeLarge(Path small) throws IOException {
        Path large = small.resolveSibling(small.getFileName() + ".large");
        Files.write(large, randomBytes(LARGE, 11));
        return large;
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

    /**
     * No credentials anywhere (the SDK's provider chain, over an empty profile file): one short line saying where to
     * put them, and not transient, so nothing retries what waiting cannot mend.
     */
    @Test
    void should_say_that_no_credentials_were_found_and_not_retry() throws IOException {
        java.nio.file.Path empty = java.nio.file.Files.createTempFile("no-credentials", ".ini");
        try (S3Client anonymous = S3Client.builder()
                .endpointOverride(URI.create(S3TestServer.get().endpoint()))
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain.of(
                        software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider.builder()
                                .profileFile(software.amazon.awssdk.profiles.ProfileFile.builder().content(empty)
                                        .type(software.amazon.awssdk.profiles.ProfileFile.Type.CREDENTIALS).build())
                                .profileName("default").build()))
                .build()) {
            S3Repository unsigned = new S3Repository("s3", anonymous, bucket, prefix, S3Repository.MIN_PART_SIZE);
            assertThatThrownBy(unsigned::check).isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("no AWS credentials were found; HINT: set AWS_ACCESS_KEY_ID")
                    .hasMessageNotContaining("ProfileFile")
                    .satisfies(e -> assertThat(((RepositoryException) e).isTransient()).isFalse());
        } finally {
            java.nio.file.Files.deleteIfExists(empty);
        }
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

    // Integrity: what S3 (here S3Proxy, which checks and keeps x-amz-checksum-sha256 like S3) records and refuses.

    private static byte[] sha256(byte[] bytes, int from, int to) throws NoSuchAlgorithmException {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        digest.update(bytes, from, to - from);
        return digest.digest();
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /** S3's composite checksum of a multipart object: the SHA-256 of the parts' SHA-256s, then "-" and the count. */
    private static String compositeSha256(byte[] data, int partSize) throws NoSuchAlgorithmException {
        MessageDigest composite = MessageDigest.getInstance("SHA-256");
        int parts = 0;
        for (int from = 0; from < data.length; from += partSize, parts++) {
            composite.update(sha256(data, from, Math.min(data.length, from + partSize)));
        }
        return base64(composite.digest()) + "-" + parts;
    }

    private HeadObjectResponse headWithChecksum(String key) {
        return server.client().headObject(r -> r.bucket(bucket).key(prefix + key).checksumMode(ChecksumMode.ENABLED));
    }

    @Test
    void should_delete_in_requests_of_at_most_a_thousand_keys_each_with_the_content_md5_of_its_body() throws Exception {
        List<String> keys = new java.util.ArrayList<>();
        for (int i = 0; i < 2345; i++) {
            keys.add("job/wal/" + String.format("%06d", i));
        }
        // Some exist; the requests are the same whether they do or not.
        putAll(repository, List.of("job/wal/000000", "job/wal/001000", "job/wal/002344", "job/wal/kept"));
        List<Integer> keysPerRequest = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (S3Client watched = clientWith(server.endpoint(), new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                SdkHttpRequest request = context.httpRequest();
                if (!request.rawQueryParameters().containsKey("delete")) {
                    return;
                }
                try (InputStream in = context.requestBody().orElseThrow().contentStreamProvider().newStream()) {
                    byte[] body = in.readAllBytes();
                    String xml = new String(body, UTF_8);
                    keysPerRequest.add(xml.split("<Key>", -1).length - 1);
                    if (!xml.contains("<Quiet>true</Quiet>")) {
                        problems.add("not quiet");
                    }
                    String md5 = base64(MessageDigest.getInstance("MD5").digest(body));
                    if (!request.firstMatchingHeader("Content-MD5").orElse("none").equals(md5)) {
                        problems.add("Content-MD5 " + request.firstMatchingHeader("Content-MD5").orElse("none")
                                + " is not " + md5);
                    }
                } catch (IOException | NoSuchAlgorithmException e) {
                    problems.add(e.toString());
                }
            }
        })) {
            new S3Repository("s3", watched, bucket, prefix, S3Repository.MIN_PART_SIZE).delete(keys);
        }

        assertThat(keysPerRequest).containsExactly(1000, 1000, 345);
        assertThat(problems).isEmpty();
        assertThat(objectKeysInBucket()).containsExactly(prefix + "job/wal/kept");
    }

    @Test
    void should_fail_a_delete_naming_the_first_key_s3_reported_and_how_many_transient_only_if_all_may_clear()
            throws Exception {
        List<String> keys = List.of("job/a", "job/b", "job/c", "job/d", "job/e");
        putAll(repository, keys);
        try (io.stowage.testing.DeleteObjectsFaultProxy proxy = new io.stowage.testing.DeleteObjectsFaultProxy()) {
            S3Settings through = new S3Settings(bucket, prefix, proxy.endpoint(), S3TestServer.REGION,
                    S3Repository.MIN_PART_SIZE);
            try (S3Client proxied = through.client()) {
                S3Repository behind = new S3Repository("s3", proxied, bucket, prefix, through.partSize());

                proxy.failKeys(1, key -> key.endsWith("/b") || key.endsWith("/d") ? "SlowDown" : null);
                assertThatThrownBy(() -> behind.delete(keys))
                        .isInstanceOfSatisfying(RepositoryException.class, e -> {
                            assertThat(e.getMessage()).isEqualTo("cannot delete 'job/b' in repository 's3' (s3://"
                                    + bucket + "/" + prefix + "): SlowDown (Please reduce your request rate.)"
                                    + " (2 of 5 keys not deleted)");
                            assertThat(e.isTransient()).as("throttling clears").isTrue();
                        });
                assertThat(repository.list("")).containsExactly("job/b", "job/d");

                proxy.failKeys(1, key -> key.endsWith("/b") ? "InternalError"
                        : key.endsWith("/d") ? "AccessDenied" : null);
                assertThatThrownBy(() -> behind.delete(keys))
                        .isInstanceOfSatisfying(RepositoryException.class, e -> {
                            assertThat(e.getMessage()).startsWith("cannot delete 'job/b' in repository 's3'")
                                    .contains("InternalError").endsWith("(2 of 5 keys not deleted)");
                            assertThat(e.isTransient()).as("access denied to job/d does not clear").isFalse();
                        });

                proxy.failKeys(1, key -> "AccessDenied");
                assertThatThrownBy(() -> behind.delete(List.of("job/d")))
                        .isInstanceOfSatisfying(RepositoryException.class, e -> {
                            assertThat(e.getMessage()).isEqualTo("cannot delete 'job/d' in repository 's3' (s3://"
                                    + bucket + "/" + prefix + "): access denied (AccessDenied); HINT: check the"
                                    + " credentials and the bucket policy");
                            assertThat(e.isTransient()).isFalse();
                        });
                assertThat(repository.list("")).containsExactly("job/b", "job/d");

                behind.delete(keys);
                assertThat(repository.list("")).isEmpty();
            }
        }
    }

    @Test
    void should_fail_a_delete_that_s3_refused_whole_as_transient_after_the_sdk_tried_again() throws Exception {
        List<String> keys = List.of("job/a", "job/b");
        putAll(repository, keys);
        try (io.stowage.testing.DeleteObjectsFaultProxy proxy = new io.stowage.testing.DeleteObjectsFaultProxy()) {
            S3Settings through = new S3Settings(bucket, prefix, proxy.endpoint(), S3TestServer.REGION,
                    S3Repository.MIN_PART_SIZE);
            try (S3Client proxied = through.client()) {
                proxy.failRequest(100, 503, "SlowDown");

                assertThatThrownBy(() -> new S3Repository("s3", proxied, bucket, prefix, through.partSize())
                        .delete(keys))
                        .isInstanceOfSatisfying(RepositoryException.class, e -> {
                            assertThat(e.getMessage()).isEqualTo("cannot delete 'job/a' in repository 's3' (s3://"
                                    + bucket + "/" + prefix + "): SlowDown (HTTP 503) (2 of 2 keys not deleted)");
                            assertThat(e.isTransient()).isTrue();
                        });
                assertThat(proxy.deleteRequests()).as("the SDK's own attempts").hasSizeGreaterThan(1);
            }
        }
        assertThat(repository.list("")).containsExactlyElementsOf(keys);
    }

    /** A client of the test server like {@link S3Settings#client()}, at {@code endpoint}, with an interceptor. */
    private static S3Client clientWith(String endpoint, ExecutionInterceptor interceptor) {
        return S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .forcePathStyle(true)
                .region(Region.of(S3TestServer.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(o -> o.addExecutionInterceptor(interceptor))
                .build();
    }

    /**
     * Replaces the x-amz-checksum-sha256 header of the requests {@code which} selects with the SHA-256 of other
     * bytes: what S3 sees when the body it receives is not the body that was hashed.
     */
    private static ExecutionInterceptor wrongChecksumOn(Predicate<SdkHttpRequest> which) {
        return new ExecutionInterceptor() {
            @Override
            public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
                SdkHttpRequest request = context.httpRequest();
                if (request.firstMatchingHeader("x-amz-checksum-sha256").isEmpty() || !which.test(request)) {
                    return request;
                }
                return request.toBuilder()
                        .putHeader("x-amz-checksum-sha256", S3Repository.sha256(new byte[] {1, 2, 3}, 3))
                        .build();
            }
        };
    }

    @Test
    void should_upload_a_single_part_object_with_a_sha256_that_s3_recorded() throws Exception {
        byte[] data = randomBytes(1024 * 1024 + 7, 21);

        repository.write("job/small.bin", out -> out.write(data));

        HeadObjectResponse head = headWithChecksum("job/small.bin");
        assertThat(head.checksumSHA256()).isEqualTo(base64(sha256(data, 0, data.length)));
        assertThat(head.checksumType()).isEqualTo(ChecksumType.FULL_OBJECT);
        assertThat(read(repository, "job/small.bin")).isEqualTo(data);
    }

    @Test
    void should_upload_a_multipart_file_with_every_part_sha256_and_a_composite_that_s3_recorded() throws Exception {
        byte[] data = randomBytes(LARGE + 13, 23);
        Path file = scratch.resolve("dump.pgfc.zst");
        Files.write(file, data);

        repository.upload("job/big.bin", file);

        String expected = compositeSha256(data, S3Repository.MIN_PART_SIZE);
        assertThat(expected).endsWith("-3");
        HeadObjectResponse head = headWithChecksum("job/big.bin");
        assertThat(head.checksumSHA256()).isEqualTo(expected);
        assertThat(head.checksumType()).isEqualTo(ChecksumType.COMPOSITE);
        GetObjectAttributesResponse attributes = server.client().getObjectAttributes(r -> r.bucket(bucket)
                .key(prefix + "job/big.bin").objectAttributes(ObjectAttributes.CHECKSUM));
        assertThat(attributes.checksum().checksumSHA256()).isEqualTo(expected);
        // The SDK does not check a composite checksum on a GET; the read still works with the checksum asked for.
        assertThat(read(repository, "job/big.bin")).isEqualTo(data);
    }

    @Test
    void should_have_a_single_put_refused_when_its_bytes_do_not_match_their_sha256() throws IOException {
        try (S3Client tampering = clientWith(server.endpoint(), wrongChecksumOn(r -> true))) {
            S3Repository damaged = new S3Repository("s3", tampering, bucket, prefix, S3Repository.MIN_PART_SIZE);

            assertThatThrownBy(() -> damaged.write("job/small.bin", out -> out.write(randomBytes(4096, 25))))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("cannot write 'job/small.bin' in repository 's3'")
                    .hasMessageContaining("BadDigest (HTTP 400)")
                    .satisfies(e -> assertThat(((RepositoryException) e).isTransient()).as("worth a retry").isTrue());
        }
        assertThat(objectKeysInBucket()).isEmpty();
    }

    @Test
    void should_abort_a_multipart_upload_whose_part_s3_refused_for_its_sha256() throws IOException {
        try (S3Client tampering = clientWith(server.endpoint(),
                wrongChecksumOn(r -> r.firstMatchingRawQueryParameter("partNumber").orElse("").equals("2")))) {
            S3Repository damaged = new S3Repository("s3", tampering, bucket, prefix, S3Repository.MIN_PART_SIZE);

            assertThatThrownBy(() -> damaged.write("job/big.bin", out -> out.write(randomBytes(LARGE, 27))))
                    .isInstanceOf(RepositoryException.class)
                    .hasMessageContaining("BadDigest (HTTP 400)")
                    .hasMessageContaining("do not match the SHA-256");
        }
        assertThat(objectKeysInBucket()).isEmpty();
        assertThat(pendingUploads()).isEmpty();
    }

    @Test
    void should_refuse_a_download_damaged_on_the_way() throws Exception {
        byte[] data = randomBytes(1024 * 1024, 29);
        repository.write("job/small.bin", out -> out.write(data));

        try (FlakyTcpProxy proxy = new FlakyTcpProxy(URI.create(server.endpoint()).getPort(), Long.MAX_VALUE)) {
            S3Settings through = new S3Settings(bucket, prefix, proxy.endpoint(), S3TestServer.REGION,
                    S3Repository.MIN_PART_SIZE, true);
            try (S3Client proxied = through.client()) {
                S3Repository reader = new S3Repository("s3", proxied, bucket, prefix, through.partSize(), true);
                proxy.corruptResponseByte(300_000);

                assertThatThrownBy(() -> read(reader, "job/small.bin"))
                        .isInstanceOf(RepositoryException.class)
                        .hasMessageContaining("cannot read 'job/small.bin' in repository 's3'")
                        .hasMessageContaining("do not match the checksum S3 stored with them");
            }
            // Without the checksum asked for, the damaged bytes arrive as if nothing happened: only the manifest's
            // SHA-256, which every restore checks, would notice.
            try (S3Client proxied = through.client()) {
                S3Repository unchecked = new S3Repository("s3", proxied, bucket, prefix, through.partSize(), false);
                proxy.corruptResponseByte(300_000);
                byte[] got = read(unchecked, "job/small.bin");
                assertThat(got).hasSameSizeAs(data);
                assertThat(Arrays.equals(got, data)).isFalse();
            }
        }
    }

    @Test
    void should_upload_without_checksums_when_they_are_off() throws Exception {
        S3Repository plain = new S3Repository("s3", client, bucket, prefix, S3Repository.MIN_PART_SIZE, false);
        byte[] data = randomBytes(LARGE, 31);

        plain.write("job/small.bin", out -> out.write(data, 0, 1000));
        plain.write("job/big.bin", out -> out.write(data));

        assertThat(headWithChecksum("job/small.bin").checksumSHA256()).isNull();
        assertThat(headWithChecksum("job/big.bin").checksumSHA256()).isNull();
        try (InputStream in = plain.open("job/big.bin")) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void should_read_the_checksum_setting() {
        assertThat(S3Settings.checksums("sha256")).isTrue();
        assertThat(S3Settings.checksums(" SHA256 ")).isTrue();
        assertThat(S3Settings.checksums("")).isTrue();
        assertThat(S3Settings.checksums("off")).isFalse();
        assertThatThrownBy(() -> S3Settings.checksums("crc32"))
                .isInstanceOf(StowageException.class)
                .hasMessage("stowage.repository.s3.checksum must be sha256 or off, not 'crc32'")
                .satisfies(e -> assertThat(((StowageException) e).exitCode()).isEqualTo(2));
    }

    @Test
    void should_mask_the_secret_key_and_a_session_token_wherever_they_would_be_printed() {
        String secret = "s3-settings-secret-" + java.util.UUID.randomUUID();
        String token = "s3-settings-session-token-" + java.util.UUID.randomUUID();
        S3Settings.registerSecrets(java.util.Map.of("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00",
                "AWS_SECRET_ACCESS_KEY", secret, "AWS_SESSION_TOKEN", token));
        assertThat(io.stowage.Secrets.mask("key " + secret + " token " + token + " id AKIAEXAMPLEEXAMPLE00"))
                .isEqualTo("key **** token **** id AKIAEXAMPLEEXAMPLE00");
    }

    /** Requests the client sends, by operation name (CopyObject, UploadPartCopy, PutObject, ...). */
    private static S3Client watching(S3Settings settings, List<String> operations) {
        return S3Client.builder().endpointOverride(URI.create(settings.endpoint())).forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)))
                .overrideConfiguration(o -> o.addExecutionInterceptor(new ExecutionInterceptor() {
                    @Override
                    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                        operations.add(context.request().getClass().getSimpleName().replace("Request", ""));
                    }
                }))
                .requestChecksumCalculation(software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
    }

    @Test
    void should_copy_between_two_buckets_of_one_client_server_side() throws IOException {
        List<String> operations = new java.util.concurrent.CopyOnWriteArrayList<>();
        S3Settings settings = server.settings(bucket, prefix);
        try (S3Client watched = watching(settings, operations)) {
            S3Repository source = new S3Repository("s3", watched, bucket, prefix, S3Repository.MIN_PART_SIZE);
            String otherBucket = server.createBucket();
            S3Repository target = new S3Repository("s3-west", watched, otherBucket, "dr/", S3Repository.MIN_PART_SIZE);
            byte[] data = randomBytes(LARGE, 47);
            source.write("job/20261121T020000Z-F/dump.pgfc.zst", out -> out.write(data));
            operations.clear();

            target.copy("job/20261121T020000Z-F/dump.pgfc.zst", new RetryingRepository(source, 2,
                    java.time.Duration.ofMillis(1)), "STANDARD_IA");

            assertThat(operations).contains("CopyObject").doesNotContain("GetObject", "PutObject", "UploadPart");
            assertThat(read(target, "job/20261121T020000Z-F/dump.pgfc.zst")).isEqualTo(data);
        }
    }

    @Test
    void should_copy_a_large_object_server_side_part_by_part() throws IOException {
        List<String> operations = new java.util.concurrent.CopyOnWriteArrayList<>();
        S3Settings settings = server.settings(bucket, prefix);
        try (S3Client watched = watching(settings, operations)) {
            S3Repository source = new S3Repository("s3", watched, bucket, prefix, S3Repository.MIN_PART_SIZE);
            S3Repository target = new S3Repository("s3-west", watched, server.createBucket(), "dr/",
                    S3Repository.MIN_PART_SIZE);
            // Above this, UploadPartCopy: 5 GiB in production, an object of three parts here.
            target.singleCopyLimit(S3Repository.MIN_PART_SIZE);
            byte[] data = randomBytes(LARGE, 53);
            source.write("job/big", out -> out.write(data));
            operations.clear();

            target.copy("job/big", source, null);

            assertThat(operations).contains("CreateMultipartUpload", "UploadPartCopy", "CompleteMultipartUpload")
                    .doesNotContain("CopyObject", "GetObject", "UploadPart");
            assertThat(read(target, "job/big")).isEqualTo(data);
        }
    }

    @Test
    void should_copy_through_the_network_between_repositories_of_two_clients() throws IOException {
        byte[] data = randomBytes(1024 * 1024, 59);
        repository.write("job/wal/000000010000000000000001.zst", out -> out.write(data));
        List<String> operations = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (S3Client other = watching(server.settings(bucket, prefix), operations)) {
            S3Repository target = new S3Repository("s3-west", other, server.createBucket(), "", S3Repository.MIN_PART_SIZE);

            target.copy("job/wal/000000010000000000000001.zst", repository, null);

            assertThat(operations).contains("PutObject").doesNotContain("CopyObject");
            assertThat(read(target, "job/wal/000000010000000000000001.zst")).isEqualTo(data);
            assertThatThrownBy(() -> target.copy("job/none", repository, null))
                    .isInstanceOf(ObjectNotFoundException.class);
        }
    }
}
