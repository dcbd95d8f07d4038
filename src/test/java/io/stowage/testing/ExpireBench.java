package io.stowage.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.engine.postgresql.PgDetails;
import io.stowage.engine.postgresql.WalObject;
import io.stowage.repository.ChecksumFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The archive {@code bench/expire.sh} expires, and the listings it checks the result with, through the S3 API.
 *
 * <pre>
 * ExpireBench populate ENDPOINT BUCKET JOB SEGMENTS BACKUPS THREADS OUT_DIR [STORE_DIRECTORY]
 * ExpireBench list ENDPOINT BUCKET PREFIX OUT_FILE [MAX_PAGES]
 * </pre>
 *
 * <p>{@code populate} writes one physical PostgreSQL job's repository as Stowage lays it out
 * (docs/repository-format.md): {@code SEGMENTS} WAL segments of 16 MiB, {@code <job>/wal/<segment>.zst} (the zstd
 * frame of an all-zero segment, about 500 bytes) each followed by its {@code .sha256} checksum file, on timeline 1
 * and, after a promotion near the end, timeline 2 with its {@code 00000002.history.zst}; then {@code BACKUPS} full
 * backups, spread over the range (the newest about 100 segments before the end), each a small real
 * {@code base.tar.zst}, its {@code .backup} history file in the archive, and, last, a {@code manifest.json} written
 * with Stowage's own classes, whose {@code engineDetails.wal} names three segments from the backup's start. Every PUT
 * carries the SHA-256 of its body ({@code x-amz-checksum-sha256}), as Stowage's do, from {@code THREADS} threads.
 * With {@code STORE_DIRECTORY} (the directory of S3Proxy's filesystem store), the WAL segments and their checksum
 * files but the first are written there as files instead, each as S3Proxy stores what it is sent: the first segment
 * and its checksum file go through the API, and every other one gets their file mode and extended attributes (content
 * type, storage class), with its own MD5 (the ETag) and SHA-256 (the stored checksum); a sample of them is then read
 * back through the API (body, ETag, checksum) and the run fails on any difference. Everything else goes through the
 * API, after them.
 * Writes {@code keys-all.txt} (every key) and {@code keys-kept.txt} (what a retention of 1 must leave: the newest
 * backup, every WAL object from its start segment on, both timelines' history files) to {@code OUT_DIR}, sorted, and
 * prints one line: {@code objects=N bytes=B seconds=S newest=ID from=SEGMENT files=F}.
 *
 * <p>{@code list} lists everything under {@code PREFIX} (ListObjectsV2, 1,000 keys a page, as Stowage does), or its
 * first {@code MAX_PAGES} pages, writes the keys sorted to {@code OUT_FILE} and prints {@code keys=N pages=P
 * seconds=S first_page_ms=F last_page_ms=L slowest_page_ms=M mean_page_ms=A mean_after_first_ms=W} (the first page
 * of a fresh server is slow: its code is not compiled yet).
 */
public final class ExpireBench {
    static final long SEGMENT_SIZE = 16L << 20;
    private static final long SEGMENTS_PER_LOG = 0x100000000L / SEGMENT_SIZE;

    private ExpireBench() {
    }

    public static void main(String[] args) throws Exception {
        if ((args.length == 8 || args.length == 9) && args[0].equals("populate")) {
            populate(args[1], args[2], args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]),
                    Integer.parseInt(args[6]), Path.of(args[7]), args.length == 9 ? Path.of(args[8]) : null);
        } else if ((args.length == 5 || args.length == 6) && args[0].equals("list")) {
            list(args[1], args[2], args[3], Path.of(args[4]), args.length == 6 ? Integer.parseInt(args[5])
                    : Integer.MAX_VALUE);
        } else {
            System.err.println("usage: ExpireBench populate ENDPOINT BUCKET JOB SEGMENTS BACKUPS THREADS OUT_DIR "
                    + "[STORE_DIRECTORY]\n       ExpireBench list ENDPOINT BUCKET PREFIX OUT_FILE [MAX_PAGES]");
            System.exit(2);
        }
    }

    /** The segment at {@code position} (1 is 000000010000000000000001) on {@code timeline}. */
    static String segment(int timeline, long position) {
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, position / SEGMENTS_PER_LOG,
                position % SEGMENTS_PER_LOG);
    }

    /** An LSN in {@code position}'s segment, {@code offset} bytes in, as PostgreSQL prints it. */
    static String lsn(long position, long offset) {
        long value = position * SEGMENT_SIZE + offset;
        return String.format(Locale.ROOT, "%X/%X", value >>> 32, value & 0xFFFFFFFFL);
    }

    private record Put(String key, byte[] body) {
    }

    static void populate(String endpoint, String bucket, String job, int segments, int backups, int threads,
                         Path out, Path store) throws Exception {
        if (segments < 100 || backups < 1 || backups > segments / 25) {
            throw new IllegalArgumentException("need SEGMENTS >= 100 and 1 <= BACKUPS <= SEGMENTS / 25");
        }
        // Backups: backup i starts at (i + 1) / BACKUPS of the range, less a gap (100 segments at most), and its WAL
        // spans three segments. The promotion to timeline 2 is 1% before the end, moved past a backup it would cut.
        long gap = Math.min(100, segments / (4L * backups));
        long[] starts = new long[backups];
        for (int i = 0; i < backups; i++) {
            starts[i] = Math.round((double) (i + 1) * segments / backups) - gap;
        }
        long promoted = segments - segments / 100;
        for (long start : starts) {
            if (start < promoted && promoted <= start + 2) {
                promoted = start + 3;
            }
        }
        long switchAt = promoted;
        java.util.function.LongUnaryOperator timeline = p -> p < switchAt ? 1 : 2;

        String wal = WalObject.prefix(job);
        byte[] segmentBody = com.github.luben.zstd.Zstd.compress(new byte[(int) SEGMENT_SIZE], 1);
        String segmentSha = sha256(segmentBody);
        List<List<Put>> walTasks = new ArrayList<>();
        List<List<Put>> tasks = new ArrayList<>();
        TreeSet<String> all = new TreeSet<>();
        TreeSet<String> kept = new TreeSet<>();
        long newestStart = starts[backups - 1];
        for (long p = 1; p <= segments; p++) {
            String name = segment((int) timeline.applyAsLong(p), p) + ".zst";
            List<Put> task = withChecksum(wal, name, segmentBody, segmentSha);
            (store == null || p == 1 ? tasks : walTasks).add(task);
            if (p >= newestStart) {
                task.forEach(put -> kept.add(put.key()));
            }
        }
        byte[] history = zstd(("1\t" + lsn(switchAt, 0x1000) + "\tno recovery target specified\n")
                .getBytes(StandardCharsets.US_ASCII));
        List<Put> historyPuts = withChecksum(wal, "00000002.history.zst", history, sha256(history));
        tasks.add(historyPuts);
        historyPuts.forEach(put -> kept.add(put.key()));

        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        byte[] base = baseTar();
        byte[] baseZst = zstd(base);
        String baseSha = sha256(baseZst);
        List<Put> manifests = new ArrayList<>();
        String newest = null;
        for (int i = 0; i < backups; i++) {
            long start = starts[i];
            int tl = (int) timeline.applyAsLong(start);
            Instant started = now.minus(Duration.ofDays(7L * (backups - 1 - i))).minus(Duration.ofHours(2));
            Instant finished = started.plus(Duration.ofMinutes(12));
            String id = BackupId.of(started, BackupType.FULL);
            PgDetails.Wal range = new PgDetails.Wal(tl, lsn(start, 0x28), lsn(start + 2, 0x100), segment(tl, start),
                    segment(tl, start + 2), SEGMENT_SIZE);
            JsonNode details = ManifestCodec.JSON.valueToTree(Map.of("wal", range));
            Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, id, job, "postgresql", BackupType.FULL,
                    "physical", null, started, finished, base.length, baseZst.length, new Manifest.Compression("zstd",
                    1), null, List.of(new Manifest.StoredObject("base.tar.zst", base.length, baseZst.length, baseSha)),
                    new Manifest.Tool("pg_basebackup", "16.4"), new Manifest.Server("16.4", Map.of()), "postgres",
                    details);
            byte[] backupHistory = zstd(("START WAL LOCATION: " + range.start() + " (file " + range.startSegment()
                    + ")\nSTOP WAL LOCATION: " + range.stop() + " (file " + range.stopSegment() + ")\nLABEL: stowage "
                    + id + "\n").getBytes(StandardCharsets.US_ASCII));
            List<Put> historyFile = withChecksum(wal, range.startSegment() + ".00000028.backup.zst", backupHistory,
                    sha256(backupHistory));
            tasks.add(historyFile);
            tasks.add(List.of(new Put(Catalog.objectKey(job, id, "base.tar.zst"), baseZst)));
            manifests.add(new Put(Catalog.manifestKey(job, id), ManifestCodec.write(manifest)));
            if (i == backups - 1) {
                newest = id;
                historyFile.forEach(put -> kept.add(put.key()));
                kept.add(Catalog.objectKey(job, id, "base.tar.zst"));
                kept.add(Catalog.manifestKey(job, id));
            }
        }
        tasks.forEach(task -> task.forEach(put -> all.add(put.key())));
        walTasks.forEach(task -> task.forEach(put -> all.add(put.key())));
        manifests.forEach(put -> all.add(put.key()));

        long began = System.nanoTime();
        AtomicLong bytes = new AtomicLong();
        try (S3Client s3 = client(endpoint, threads)) {
            if (store != null) {
                // The first segment and its checksum file through the API: what S3Proxy stores for them is the model
                List<Put> model = tasks.remove(0);
                run(s3, bucket, List.of(model), 1, bytes);
                writeFiles(store.resolve(bucket), model, walTasks, threads, bytes);
                checkServed(s3, bucket, walTasks);
            }
            run(s3, bucket, tasks, threads, bytes);
            // The manifests last: a backup exists once its manifest does.
            run(s3, bucket, manifests.stream().map(List::of).toList(), threads, bytes);
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        Files.createDirectories(out);
        Files.write(out.resolve("keys-all.txt"), all);
        Files.write(out.resolve("keys-kept.txt"), kept);
        int files = walTasks.stream().mapToInt(List::size).sum();
        System.out.printf(Locale.ROOT, "objects=%d bytes=%d seconds=%.1f newest=%s from=%s files=%d%n", all.size(),
                bytes.get(), seconds, newest, segment((int) timeline.applyAsLong(newestStart), newestStart), files);
    }

    /** An object and its checksum file after it, in that order. */
    private static List<Put> withChecksum(String directory, String name, byte[] body, String sha256) {
        return List.of(new Put(directory + name, body), new Put(directory + name + ChecksumFiles.EXTENSION,
                ChecksumFiles.line(sha256, name).getBytes(StandardCharsets.US_ASCII)));
    }

    private static void run(S3Client s3, String bucket, List<List<Put>> tasks, int threads, AtomicLong bytes)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            int chunk = Math.max(1, tasks.size() / (threads * 16));
            for (int from = 0; from < tasks.size(); from += chunk) {
                List<List<Put>> slice = tasks.subList(from, Math.min(tasks.size(), from + chunk));
                futures.add(pool.submit(() -> {
                    for (List<Put> task : slice) {
                        for (Put put : task) {
                            s3.putObject(PutObjectRequest.builder().bucket(bucket).key(put.key())
                                    .checksumSHA256(Base64.getEncoder().encodeToString(digest(put.body()))).build(),
                                    RequestBody.fromBytes(put.body()));
                            bytes.addAndGet(put.body().length);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Writes each object of {@code tasks} as a file under {@code bucketDirectory}, as S3Proxy stored {@code model}'s
     * objects (a data object, then a checksum file): their file mode, and their extended attributes with the MD5 and
     * the SHA-256 of each body in place of the model's.
     */
    private static void writeFiles(Path bucketDirectory, List<Put> model, List<List<Put>> tasks, int threads,
                                   AtomicLong bytes) throws Exception {
        List<Map<String, byte[]>> attributes = new ArrayList<>();
        List<java.util.Set<java.nio.file.attribute.PosixFilePermission>> modes = new ArrayList<>();
        for (Put put : model) {
            Path file = bucketDirectory.resolve(put.key());
            java.nio.file.attribute.UserDefinedFileAttributeView view = Files.getFileAttributeView(file,
                    java.nio.file.attribute.UserDefinedFileAttributeView.class);
            Map<String, byte[]> values = new java.util.LinkedHashMap<>();
            for (String name : view.list()) {
                java.nio.ByteBuffer value = java.nio.ByteBuffer.allocate(view.size(name));
                view.read(name, value);
                values.put(name, value.array());
            }
            if (values.keySet().stream().noneMatch(n -> n.endsWith("content-md5"))) {
                throw new IllegalStateException("S3Proxy stored no MD5 attribute on " + file + ": " + values.keySet());
            }
            attributes.add(values);
            modes.add(Files.getPosixFilePermissions(file));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            int chunk = Math.max(1, tasks.size() / (threads * 16));
            for (int from = 0; from < tasks.size(); from += chunk) {
                List<List<Put>> slice = tasks.subList(from, Math.min(tasks.size(), from + chunk));
                futures.add(pool.submit(() -> {
                    for (List<Put> task : slice) {
                        for (int i = 0; i < task.size(); i++) {
                            Put put = task.get(i);
                            Path file = bucketDirectory.resolve(put.key());
                            Files.createDirectories(file.getParent());
                            Files.write(file, put.body());
                            java.nio.file.attribute.UserDefinedFileAttributeView view = Files.getFileAttributeView(
                                    file, java.nio.file.attribute.UserDefinedFileAttributeView.class);
                            for (Map.Entry<String, byte[]> attribute : attributes.get(i).entrySet()) {
                                String name = attribute.getKey();
                                byte[] value = name.endsWith("content-md5") ? md5(put.body())
                                        : name.endsWith("checksum_sha256") ? Base64.getEncoder()
                                        .encodeToString(digest(put.body())).getBytes(StandardCharsets.US_ASCII)
                                        : attribute.getValue();
                                view.write(name, java.nio.ByteBuffer.wrap(value));
                            }
                            Files.setPosixFilePermissions(file, modes.get(i));
                            bytes.addAndGet(put.body().length);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Reads a sample of the objects written as files back through the API: body, ETag and stored SHA-256. */
    private static void checkServed(S3Client s3, String bucket, List<List<Put>> tasks) throws IOException {
        int[] picks = {0, tasks.size() / 2, tasks.size() - 1};
        for (int pick : picks) {
            for (Put put : tasks.get(pick)) {
                try (var in = s3.getObject(software.amazon.awssdk.services.s3.model.GetObjectRequest.builder()
                        .bucket(bucket).key(put.key()).checksumMode(
                                software.amazon.awssdk.services.s3.model.ChecksumMode.ENABLED).build())) {
                    byte[] body = in.readAllBytes();
                    String eTag = in.response().eTag().replace("\"", "");
                    String sha = in.response().checksumSHA256();
                    String expectedSha = Base64.getEncoder().encodeToString(digest(put.body()));
                    if (!java.util.Arrays.equals(body, put.body()) || !eTag.equals(HexFormat.of().formatHex(
                            md5(put.body()))) || !expectedSha.equals(sha)) {
                        throw new IllegalStateException("S3Proxy does not serve " + put.key() + " as written: "
                                + body.length + " bytes (" + put.body().length + " written), ETag " + eTag
                                + ", SHA-256 " + sha + " (" + expectedSha + ")");
                    }
                }
            }
        }
    }

    static void list(String endpoint, String bucket, String prefix, Path out, int maxPages) throws IOException {
        TreeSet<String> keys = new TreeSet<>();
        int pages = 0;
        double first = 0;
        double last = 0;
        double slowest = 0;
        double total = 0;
        long began = System.nanoTime();
        try (S3Client s3 = client(endpoint, 2)) {
            String token = null;
            do {
                long start = System.nanoTime();
                ListObjectsV2Response page = s3.listObjectsV2(ListObjectsV2Request.builder().bucket(bucket)
                        .prefix(prefix).continuationToken(token).build());
                double ms = (System.nanoTime() - start) / 1e6;
                first = pages == 0 ? ms : first;
                last = ms;
                slowest = Math.max(slowest, ms);
                total += ms;
                pages++;
                page.contents().stream().map(S3Object::key).forEach(keys::add);
                token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
            } while (token != null && pages < maxPages);
        }
        double seconds = (System.nanoTime() - began) / 1e9;
        Files.write(out, keys);
        System.out.printf(Locale.ROOT, "keys=%d pages=%d seconds=%.1f first_page_ms=%.0f last_page_ms=%.0f "
                + "slowest_page_ms=%.0f mean_page_ms=%.0f mean_after_first_ms=%.0f%n", keys.size(), pages, seconds,
                first, last, slowest, total / pages, pages > 1 ? (total - first) / (pages - 1) : first);
    }

    private static S3Client client(String endpoint, int connections) {
        return S3Client.builder()
                .endpointOverride(URI.create(endpoint))
                .forcePathStyle(true)
                .region(Region.of(S3TestServer.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        S3TestServer.ACCESS_KEY, S3TestServer.SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(connections)
                        .socketTimeout(Duration.ofMinutes(10)))
                .overrideConfiguration(o -> o.apiCallTimeout(Duration.ofMinutes(10)))
                .build();
    }

    /** A small tar as pg_basebackup's base.tar begins: PG_VERSION and a backup_label. */
    private static byte[] baseTar() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (Map.Entry<String, String> file : Map.of("PG_VERSION", "16\n", "backup_label",
                    "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nBACKUP METHOD: streamed\n")
                    .entrySet()) {
                byte[] content = file.getValue().getBytes(StandardCharsets.US_ASCII);
                TarArchiveEntry entry = new TarArchiveEntry(file.getKey());
                entry.setSize(content.length);
                tar.putArchiveEntry(entry);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] zstd(byte[] data) {
        return com.github.luben.zstd.Zstd.compress(data, 1);
    }

    private static byte[] digest(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] md5(byte[] data) {
        try {
            return MessageDigest.getInstance("MD5").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest(data));
    }
}
