package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.stowage.route.JobLock;
import io.stowage.runtime.StowageRuntime;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.Workspace;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * The catch-up of log files: when the source (S3) fails to serve a checksum file, the failure is the source's, not
 * the target's: the local repository, which answered all along, is not reported as not answering nor skipped for the
 * rest of the round.
 */
class CatchUpLogSourceFailureTest {
    @TempDir
    java.nio.file.Path dir;

    @Test
    void a_source_failing_to_serve_a_checksum_file_is_not_blamed_on_the_target() throws Exception {
        AtomicBoolean failChecksums = new AtomicBoolean();
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(new ForwardingBlobStore(new TransientNio2BlobStore()) {
                    @Override
                    public ResponseInputStream<GetObjectResponse> getBlob(GetObjectRequest request) {
                        if (failChecksums.get() && request.key().endsWith(".sha256")) {
                            throw new IllegalStateException("disk error");
                        }
                        return super.getBlob(request);
                    }
                })
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)
                .build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            Thread.sleep(10);
        }
        String endpoint = "http://127.0.0.1:" + proxy.getPort();
        S3TestServer.get(); // the SDK's default credentials, as the service reads them
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(CatchUp.class);
        logged.start();
        logger.addAppender(logged);
        try (S3Client client = S3Client.builder().endpointOverride(URI.create(endpoint)).forcePathStyle(true)
                .region(Region.of(S3TestServer.REGION))
                .requestChecksumCalculation(software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(software.amazon.awssdk.core.checksums.ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY))).build()) {
            client.createBucket(b -> b.bucket("wal"));
            for (String segment : List.of("000000010000000000000001", "000000010000000000000002")) {
                byte[] bytes = ("log " + segment).getBytes(StandardCharsets.US_ASCII);
                String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
                client.putObject(p -> p.bucket("wal").key("postgres/wal/" + segment + ".zst"),
                        RequestBody.fromBytes(bytes));
                client.putObject(p -> p.bucket("wal").key("postgres/wal/" + segment + ".zst.sha256"),
                        RequestBody.fromString(sha + "  " + segment + ".zst\n"));
            }
            Workspace ws = new Workspace(dir.resolve("ws")).s3("wal", "", endpoint)
                    .property("stowage.repository.retry.delay-ms", "10");
            failChecksums.set(true);
            try (StowageRuntime runtime = StowageRuntime.startLight(ws.writeConfiguration())) {
                var services = runtime.services();
                java.nio.file.Path home = services.repositories().home().root();
                CatchUp catchUp = new CatchUp(services, job -> JobLock.tryAcquire(home, job), Duration.ofHours(6));
                CatchUp.Report report = catchUp.run(new CatchUp.Options("postgres", null, false, true));
                assertThat(report.failures()).as("the log files could not be copied from s3").isNotEmpty();
                List<String> warnings = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
                assertThat(warnings).as("warnings: " + warnings + "; failures: " + report.failures())
                        .noneMatch(w -> w.startsWith("repository local does not answer"));
            }
        } finally {
            logger.detachAppender(logged);
            proxy.stop();
        }
    }
}
