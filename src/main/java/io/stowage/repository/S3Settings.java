package io.stowage.repository;

import io.stowage.Secrets;
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
 */
public record S3Settings(String bucket, String prefix, String endpoint, String region, int partSize) {

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
            // S3-compatible servers vary in their support of the SDK's newer default checksums; send them only where
            // the API requires them. Stowage checks its own SHA-256 of every object on every read.
            builder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        String secret = System.getenv("AWS_SECRET_ACCESS_KEY");
        Secrets.register(secret);
        return builder.build();
    }
}
