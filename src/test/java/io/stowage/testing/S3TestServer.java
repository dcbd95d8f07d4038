package io.stowage.testing;

import io.stowage.repository.S3Repository;
import io.stowage.repository.S3Settings;
import java.net.URI;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/** One in-memory S3 API server (S3Proxy) for the whole test JVM, started on first use, stopped at JVM exit. */
public final class S3TestServer {
    public static final String ACCESS_KEY = "stowage-test-access";
    public static final String SECRET_KEY = "stowage-test-secret";
    public static final String REGION = "us-east-1";

    private static S3TestServer instance;

    private final S3Proxy proxy;
    private final String endpoint;
    private final S3Client client;
    private final AtomicInteger buckets = new AtomicInteger();

    private S3TestServer() throws Exception {
        proxy = S3Proxy.builder()
                .blobStore(new TransientNio2BlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        endpoint = "http://127.0.0.1:" + proxy.getPort();
        // For the SDK's default credentials chain, which S3Settings#client uses.
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
        System.setProperty("aws.region", REGION);
        client = S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .forcePathStyle(true)
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                client.close();
                proxy.stop();
            } catch (Exception e) {
                // the JVM is going away anyway
            }
        }, "s3-test-server-stop"));
    }

    /** The server, started on the first call. */
    public static synchronized S3TestServer get() {
        if (instance == null) {
            try {
                instance = new S3TestServer();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the S3 test server", e);
            }
        }
        return instance;
    }

    /** The server's address, {@code http://127.0.0.1:PORT}. */
    public String endpoint() {
        return endpoint;
    }

    /** A client of this server with the test credentials, path-style, region us-east-1. */
    public S3Client client() {
        return client;
    }

    /** Creates a new, empty bucket with a name no other test uses, and returns that name. */
    public String createBucket() {
        String name = ("test-" + buckets.incrementAndGet() + "-"
                + UUID.randomUUID().toString().replace("-", "").substring(0, 12)).toLowerCase(Locale.ROOT);
        client.createBucket(CreateBucketRequest.builder().bucket(name).build());
        return name;
    }

    /** Settings of an S3 repository in {@code bucket} under {@code prefix} on this server, with the smallest part size. */
    public S3Settings settings(String bucket, String prefix) {
        return new S3Settings(bucket, prefix, endpoint, REGION, S3Repository.MIN_PART_SIZE);
    }
}
