package io.stowage.repository;

import io.stowage.Secrets;
import io.stowage.StowageException;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The S3 repository's settings, from application.properties (which reads STOWAGE_S3_* and the AWS SDK's own
 * variables by default). Credentials come from the SDK's default chain: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, or an instance role.
 *
 * @param checksums whether uploads carry SHA-256 checksums that S3 checks ({@code stowage.repository.s3.checksum},
 *                  {@code sha256} by default, {@code off} for servers that refuse them); see {@link S3Repository}
 */
public record S3Settings(String bucket, String prefix, String endpoint, String region, int partSize,
                         boolean checksums, Timeouts timeouts) {

    /**
     * How long one S3 call may take. {@code connect}: to open a connection; {@code read}: the longest wait for the
     * next byte of an answer (or for S3 to take the next bytes of a request); {@code call}: a metadata call (HEAD,
     * LIST, DELETE, creating or aborting a multipart upload) as a whole, the SDK's own retries included;
     * {@code transfer}: a data transfer (PUT of an object or a part, GET of an object until its body starts, a
     * server-side copy, completing a multipart upload) as a whole, the SDK's own retries included.
     */
    public record Timeouts(Duration connect, Duration read, Duration call, Duration transfer) {
        /** What the keys default to: connect 5 s, read 30 s, a metadata call 60 s, a transfer 15 min. */
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofMinutes(15));
    }

    /** Settings with SHA-256 checksums on. */
    public S3Settings(String bucket, String prefix, String endpoint, String region, int partSize) {
        this(bucket, prefix, endpoint, region, partSize, true);
    }

    /** Settings with the default timeouts. */
    public S3Settings(String bucket, String prefix, String endpoint, String region, int partSize,
                      boolean checksums) {
        this(bucket, prefix, endpoint, region, partSize, checksums, Timeouts.DEFAULT);
    }

    /** Reads {@code stowage.repository.s3.checksum}: {@code sha256} (also when blank) or {@code off}. */
    public static boolean checksums(String value) {
        String v = value == null ? "" : value.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (v) {
            case "", "sha256" -> true;
            case "off" -> false;
            default -> throw StowageException.usage("stowage.repository.s3.checksum must be sha256 or off, not '"
                    + value.strip() + "'");
        };
    }

    public boolean enabled() {
        return bucket != null && !bucket.isBlank();
    }

    /**
     * An S3 client for these settings: path-style addressing when an endpoint is given (S3-compatible servers); the
     * connect and read timeouts on every connection, and the call timeout on every call that does not set its own
     * ({@link S3Repository} bounds each of its calls by the call or the transfer timeout).
     */
    public S3Client client() {
        S3ClientBuilder builder = S3Client.builder()
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .overrideConfiguration(o -> o.apiCallTimeout(timeouts.call()))
                .httpClientBuilder(software.amazon.awssdk.http.apache.ApacheHttpClient.builder()
                        .connectionTimeout(timeouts.connect())
                        .socketTimeout(timeouts.read())
                        .connectionAcquisitionTimeout(timeouts.call()));
        if (region != null && !region.isBlank()) {
            builder.region(Region.of(region.trim()));
        } else if (endpoint != null && !endpoint.isBlank()) {
            builder.region(Region.US_EAST_1);
        }
        if (endpoint != null && !endpoint.isBlank()) {
            builder.endpointOverride(URI.create(endpoint.trim())).forcePathStyle(true);
            // S3-compatible servers vary in their support of the SDK's newer default checksums (CRC32 in an
            // aws-chunked trailer); send them only where the API requires them. Stowage sends its own SHA-256 of
            // every PUT and part as a plain x-amz-checksum-sha256 header (S3Repository), and reads validate a stored
            // checksum because they ask for it (ChecksumMode.ENABLED).
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        registerSecrets(System.getenv());
        return builder.build();
    }

    /**
     * Masks, in every log line and message, what signs a request: the secret key, and a temporary credential's
     * session token (the access key id names the key, and is not secret).
     */
    static void registerSecrets(java.util.Map<String, String> environment) {
        Secrets.register(environment.get("AWS_SECRET_ACCESS_KEY"));
        Secrets.register(environment.get("AWS_SESSION_TOKEN"));
    }
}
