package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.FaultProxy;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * S3 refuses to serve one object of an old backup (an object tiered to DEEP_ARCHIVE answers 403 InvalidObjectState
 * until restored; here, the server refuses that one key) while it answers every other call. That per-object refusal
 * is not "repository s3 does not answer": S3 stays usable for the rest of the round, also as a target, and a newer
 * backup that only the local repository holds gets its offsite copy.
 */
class CatchUpUnreadableSourceObjectTest {
    private static final String SOURCE = "catchup_unreadable_source";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void one_unreadable_object_in_s3_does_not_stop_copies_to_s3() throws Exception {
        AtomicReference<String> unreadablePrefix = new AtomicReference<>();
        S3Proxy server = S3Proxy.builder()
                .blobStore(new ForwardingBlobStore(new TransientNio2BlobStore()) {
                    @Override
                    public ResponseInputStream<GetObjectResponse> getBlob(GetObjectRequest request) {
                        String prefix = unreadablePrefix.get();
                        if (prefix != null && request.key().startsWith(prefix)
                                && !request.key().endsWith("manifest.json")) {
                            throw new IllegalStateException("InvalidObjectState: the object is archived");
                        }
                        return super.getBlob(request);
                    }
                })
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)
                .build();
        server.start();
        while (!"STARTED".equals(server.getState())) {
            Thread.sleep(10);
        }
        S3TestServer.get(); // the SDK's default credentials, as the service reads them
        try (FaultProxy s3 = new FaultProxy(server.getPort());
             S3Client client = S3Client.builder().endpointOverride(URI.create("http://127.0.0.1:" + server.getPort()))
                     .forcePathStyle(true).region(Region.of(S3TestServer.REGION))
                     .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                             S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY))).build()) {
            client.createBucket(b -> b.bucket("offsite"));
            Workspace ws = new Workspace(dir.resolve("ws")).job("postgres", SOURCE).s3("offsite", "", s3.endpoint())
                    .property("stowage.repository.retry.delay-ms", "10");

            // An old backup, in both; the local copy is lost later (a disk replaced), so S3 alone holds it.
            Workspace.Result old = ws.run("backup", "postgres");
            assertThat(old.status()).as(old.toString()).isZero();
            String oldId = old.lastLine().strip();
            deleteTree(ws.repository().resolve("postgres/" + oldId));
            Thread.sleep(1100);

            // A new backup while S3 refuses: complete in local only.
            s3.mode(FaultProxy.Mode.REFUSE);
            Workspace.Result fresh = ws.run("backup", "postgres");
            assertThat(fresh.status()).as(fresh.toString()).isEqualTo(1);
            String freshId = ws.run("list", "--json").out().replaceAll("(?s).*\"id\" *: *\"([^\"]+)\".*", "$1");
            s3.mode(FaultProxy.Mode.PASS);

            // S3 answers, but will not serve the old backup's data object (archived).
            unreadablePrefix.set("postgres/" + oldId + "/");
            Workspace.Result sync = ws.run("sync", "postgres");
            assertThat(sync.status()).as(sync.toString()).isEqualTo(1); // the old backup cannot come back to local
            assertThat(client.listObjectsV2(r -> r.bucket("offsite").prefix("postgres/" + freshId + "/")).contents()
                    .stream().map(o -> o.key()).toList())
                    .as("the new backup " + freshId + " gets its offsite copy: " + sync)
                    .contains("postgres/" + freshId + "/manifest.json");
        } finally {
            server.stop();
        }
    }
}
