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
                         boolean checksums) {

    /** Settings with SHA-256 checksums on. */
    public S3Settings(String bucket, String prefix, String endpoint, String region, int partSize) {
        this(bucket, prefix, endpoint, region, partSize, true);
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

    /** An S3 client for these settings: path-style addressing when an endpoint is given (S3-compatible servers). */
    public S3Client client() {
        S3ClientBuilder builder = S3Client.builder()
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .overrideConfiguration(o -> o.apiCallAttemptTimeout(Duration.ofMinutes(5)))
                .httpClientBuilder(software.amazon.awssdk.http.apache.ApacheHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(10)));
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
