package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.runtime.ManagementServer;
import io.stowage.runtime.StowageService;
import io.stowage.testing.FaultProxy;
import io.stowage.testing.ManagementClient;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The WAL route under a backlog and an S3 outage: files leave the spool strictly oldest first, a failed file is tried
 * again (after a backoff, not in a storm) before any newer one, its local copy is made once, and the RPO gauge shows
 * what waits in the spool from the first scrape. The spooled files are WAL-named files of random bytes: the route
 * ships whatever its engine calls a log file, and no server is needed to fill the spool.
 */
class WalShippingOrderTest {
    @TempDir
    Path dir;

    private StowageService service;

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    private static String segment(int n) {
        return String.format("00000001000000000000%04X", n);
    }

    private static void spoolFile(Path spool, String name, Instant modified) throws Exception {
        byte[] bytes = new byte[256 * 1024];
        new Random(name.hashCode()).nextBytes(bytes);
        Path file = spool.resolve(name);
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, FileTime.from(modified));
    }

    /** A physical job on a server nobody needs to reach (the test never backs up), and its WAL route. */
    private Workspace workspace(Path spool) {
        Workspace ws;
        try {
            ws = new Workspace(dir.resolve("ws"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return ws.templatedJob("pg", "postgresql-physical", List.of("host", "127.0.0.1", "port", "1"),
                "- templatedRoute:\n    routeTemplateRef: postgresql-wal\n    routeId: wal-pg\n    parameters:\n"
                        + "      - name: job\n        value: \"pg\"\n"
                        + "      - name: spool\n        value: \"" + spool + "\"\n"
                        + "      - name: pollDelay\n        value: \"50\"\n"
                        + "      - name: retryDelay\n        value: \"200\"\n"
                        + "      - name: retryMaxDelay\n        value: \"1600\"\n");
    }

    /** The local repository's WAL objects (not checksum files), in the order they were written. */
    private static List<String> writeOrder(Path wal) throws Exception {
        List<Path> objects;
        try (Stream<Path> files = Files.list(wal)) {
            objects = new ArrayList<>(files.filter(f -> f.getFileName().toString().endsWith(".zst")).toList());
        }
        objects.sort((a, b) -> {
            try {
                return Files.getLastModifiedTime(a).compareTo(Files.getLastModifiedTime(b));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return objects.stream().map(p -> p.getFileName().toString().replace(".zst", "")).toList();
    }

    private static void awaitEmpty(Path spool, long seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (true) {
            try (Stream<Path> files = Files.list(spool)) {
                if (files.findAny().isEmpty()) {
                    return;
                }
            }
            assertThat(System.nanoTime()).as("the spool drains within " + seconds + " s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private double metric(String series) throws Exception {
        String text = ManagementClient.get(ManagementServer.port(service.runtime().context()), "/observe/metrics");
        return ManagementClient.sample(text, series).orElse(0); // a counter not yet incremented is not exported
    }

    @Test
    void should_ship_a_backlog_strictly_oldest_first_whatever_the_files_times() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        List<Integer> numbers = new ArrayList<>();
        for (int n = 1; n <= 12; n++) {
            numbers.add(n);
        }
        Collections.shuffle(numbers, new Random(7));
        Instant now = Instant.now();
        for (int i = 0; i < numbers.size(); i++) {
            // modification times in another order than the names: the names say the order
            spoolFile(spool, segment(numbers.get(i)), now.minusSeconds(600 - i * 10L));
        }
        Workspace ws = workspace(spool);
        service = ws.service();
        awaitEmpty(spool, 60);
        List<String> expected = numbers.stream().sorted().map(WalShippingOrderTest::segment).toList();
        assertThat(writeOrder(ws.repository().resolve("pg/wal"))).isEqualTo(expected);
    }

    @Test
    void should_retry_the_failed_file_first_with_backoff_write_it_locally_once_and_report_the_rpo_at_once()
            throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Instant tenMinutesAgo = Instant.now().minusSeconds(600);
        for (int n = 1; n <= 3; n++) {
            spoolFile(spool, segment(n), tenMinutesAgo.plusSeconds(n));
        }
        try (FaultProxy s3 = FaultProxy.forS3()) {
            s3.mode(FaultProxy.Mode.REFUSE);
            Workspace ws = workspace(spool).s3(bucket, "", s3.endpoint())
                    .property("stowage.repository.retry.attempts", "1")
                    .property("camel.management.enabled", "true")
                    .property("camel.management.metrics-enabled", "true")
                    .property("camel.metrics.enabled", "true");
            service = ws.service();
            // From the first scrape: ten minutes of WAL wait in the spool, whatever has shipped since the start.
            assertThat(metric("stowage_archive_rpo_seconds{job=\"pg\"}")).isGreaterThanOrEqualTo(590);

            Path wal = ws.repository().resolve("pg/wal");
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!Files.exists(wal.resolve(segment(1) + ".zst.sha256"))) {
                assertThat(System.nanoTime()).as("the first file's local copy").isLessThan(deadline);
                Thread.sleep(20);
            }
            FileTime firstWrite = Files.getLastModifiedTime(wal.resolve(segment(1) + ".zst"));
            double failuresBefore = metric("stowage_archive_failures_total{job=\"pg\"}");
            Thread.sleep(6000);
            double failures = metric("stowage_archive_failures_total{job=\"pg\"}") - failuresBefore;
            // A storm would be hundreds of attempts; the backoff (0.2 s doubling up to 1.6 s) allows about six.
            assertThat(failures).as("attempts in 6 s of outage").isBetween(2.0, 10.0);
            // Nothing left the spool, nothing newer was tried, and the local copy was made once.
            try (Stream<Path> files = Files.list(spool)) {
                assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                        .containsExactly(segment(1), segment(2), segment(3));
            }
            assertThat(writeOrder(wal)).containsExactly(segment(1));
            assertThat(Files.getLastModifiedTime(wal.resolve(segment(1) + ".zst"))).isEqualTo(firstWrite);
            assertThat(metric("stowage_archive_rpo_seconds{job=\"pg\"}")).isGreaterThanOrEqualTo(590);

            // A newer file arrives during the outage, then an older one that was late: neither jumps the queue.
            spoolFile(spool, segment(5), Instant.now());
            spoolFile(spool, segment(4), Instant.now());
            Thread.sleep(1000);
            assertThat(writeOrder(wal)).containsExactly(segment(1));

            s3.mode(FaultProxy.Mode.PASS);
            awaitEmpty(spool, 60);
            assertThat(writeOrder(wal)).containsExactly(segment(1), segment(2), segment(3), segment(4), segment(5));
            assertThat(Files.getLastModifiedTime(wal.resolve(segment(1) + ".zst"))).isEqualTo(firstWrite);
            List<String> inS3 = S3TestServer.get().client()
                    .listObjectsV2(ListObjectsV2Request.builder().bucket(bucket).prefix("pg/wal/").build())
                    .contents().stream().map(S3Object::key).sorted().toList();
            List<String> expected = new ArrayList<>();
            for (int n = 1; n <= 5; n++) {
                expected.add("pg/wal/" + segment(n) + ".zst");
                expected.add("pg/wal/" + segment(n) + ".zst.sha256");
            }
            assertThat(inS3).isEqualTo(expected);
            assertThat(metric("stowage_archive_rpo_seconds{job=\"pg\"}")).isLessThan(60);
        }
    }
}
