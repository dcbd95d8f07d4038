package io.stowage.testing;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.CreateBucketRequest;

/**
 * A standalone S3 API server for a long run beside a Stowage service ({@code bench/soak.sh}): S3Proxy storing objects
 * on disk under a directory (so the server's own memory does not grow with what is stored), behind a
 * {@link FaultProxy} that flaps. Every {@code period} seconds the proxy goes down for {@code outage} seconds, in turn
 * REFUSE, HANG and CUT (cut after 1 MiB of requests, then refusing), and PASS again. A period of 0 (with an outage
 * of 0) never flaps: there is no fault proxy at all, and the endpoint is S3Proxy's own ({@code bench/expire.sh}).
 *
 * <pre>
 * java -cp target/test-classes:target/classes:DEPENDENCIES io.stowage.testing.SoakS3Server \
 *     DIRECTORY BUCKET ENDPOINT_FILE [PERIOD_SECONDS [OUTAGE_SECONDS]]
 * </pre>
 *
 * It creates the bucket, then writes the endpoint clients use ({@code http://127.0.0.1:PORT}) to
 * {@code ENDPOINT_FILE} (atomically: a reader sees the whole line or no file), and prints one line per mode change:
 * {@code <ISO time> <mode>}. A bucket that is there already (another server on the same directory) is used as it is.
 *
 * <p>For benchmarks, two system properties: {@code -Dstowage.bench.s3.call-log=FILE} appends every call the S3 API
 * makes on the blob store to that file as it ends, one line each ({@link CallLogBlobStore});
 * {@code -Dstowage.bench.s3.listing-index=true} serves flat listings from a sorted index
 * ({@link ListingIndexBlobStore}). Access key and secret are {@link S3TestServer#ACCESS_KEY} and
 * {@link S3TestServer#SECRET_KEY}, region {@link S3TestServer#REGION}. It runs until it is killed (SIGTERM).
 */
public final class SoakS3Server {
    private SoakS3Server() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length > 5) {
            System.err.println("usage: SoakS3Server DIRECTORY BUCKET ENDPOINT_FILE [PERIOD_SECONDS [OUTAGE_SECONDS]]");
            System.exit(2);
        }
        Path directory = Path.of(args[0]);
        String bucket = args[1];
        Path endpointFile = Path.of(args[2]);
        long period = args.length > 3 ? Long.parseLong(args[3]) : 180;
        long outage = args.length > 4 ? Long.parseLong(args[4]) : 30;
        String callLog = System.getProperty("stowage.bench.s3.call-log");
        boolean flaps = period != 0;
        if (flaps ? period < 0 || outage < 0 || outage >= period : outage != 0) {
            throw new IllegalArgumentException("need 0 <= OUTAGE_SECONDS < PERIOD_SECONDS, or both 0 (no faults)");
        }
        Files.createDirectories(directory);
        BlobStore store = new FilesystemNio2BlobStore(directory.toString());
        if (Boolean.getBoolean("stowage.bench.s3.listing-index")) {
            store = new ListingIndexBlobStore(store);
        }
        if (callLog != null) {
            store = new CallLogBlobStore(store, Path.of(callLog));
        }
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
        String direct = "http://127.0.0.1:" + proxy.getPort();
        try (S3Client client = S3Client.builder()
                .endpointOverride(URI.create(direct))
                .forcePathStyle(true)
                .region(Region.of(S3TestServer.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)))
                .build()) {
            client.createBucket(CreateBucketRequest.builder().bucket(bucket).build());
        } catch (BucketAlreadyOwnedByYouException | BucketAlreadyExistsException there) {
            // another server on the same directory made it
        }
        FaultProxy faults = flaps ? new FaultProxy(proxy.getPort()) : null;
        BlobStore stored = store;
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                if (faults != null) {
                    faults.close();
                }
                proxy.stop();
                stored.close();
            } catch (Exception e) {
                // the JVM is going away anyway
            }
        }, "soak-s3-stop"));
        Path temporary = endpointFile.resolveSibling(endpointFile.getFileName() + ".tmp");
        String endpoint = flaps ? faults.endpoint() : direct;
        Files.writeString(temporary, endpoint + "\n", StandardCharsets.US_ASCII);
        Files.move(temporary, endpointFile, StandardCopyOption.ATOMIC_MOVE);
        say("PASS " + endpoint + (flaps ? " (S3Proxy at " + direct + ")" : " (S3Proxy, no faults)"));
        if (!flaps) {
            stop.await();
            return;
        }

        FaultProxy.Mode[] outages = {FaultProxy.Mode.REFUSE, FaultProxy.Mode.HANG, FaultProxy.Mode.CUT};
        int next = 0;
        while (true) {
            if (stop.await(period - outage, TimeUnit.SECONDS)) {
                return;
            }
            if (outage == 0) {
                continue;
            }
            FaultProxy.Mode mode = outages[next++ % outages.length];
            if (mode == FaultProxy.Mode.CUT) {
                faults.cutAfter(1 << 20);
            } else {
                faults.mode(mode);
            }
            say(mode.name());
            if (stop.await(outage, TimeUnit.SECONDS)) {
                return;
            }
            faults.mode(FaultProxy.Mode.PASS);
            say("PASS");
        }
    }

    private static void say(String what) {
        System.out.println(Instant.now() + " " + what);
        System.out.flush();
    }
}
