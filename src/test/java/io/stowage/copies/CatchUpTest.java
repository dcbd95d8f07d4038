package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.lock.ExclusiveLock;
import io.stowage.testing.CommandProcess;
import io.stowage.testing.FaultProxy;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.ResponseTransformer;

/**
 * Copies catch up: a backup whose S3 copy failed (S3 refusing, through a {@link FaultProxy} in front of the test S3
 * server) is brought to S3 without a new backup, by {@code stowage sync} and by the service's own rounds, proven
 * against its SHA-256 first; {@code list --json} and {@code stowage_copies_missing} say where it is.
 */
class CatchUpTest {
    private static final String SOURCE = "catch_up_source";

    @TempDir
    Path dir;

    private FaultProxy s3;
    private String bucket;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    @BeforeEach
    void proxy() throws Exception {
        s3 = FaultProxy.forS3();
        bucket = S3TestServer.get().createBucket();
    }

    @AfterEach
    void closeProxy() throws Exception {
        s3.close();
    }

    private Workspace workspace(Path where) throws Exception {
        return new Workspace(where).job("postgres", SOURCE).s3(bucket, "", s3.endpoint())
                .property("stowage.repository.retry.delay-ms", "10");
    }

    /** A backup taken while S3 refuses: complete in local only; its id. S3 still refuses afterwards. */
    private static String backupWhileS3IsDown(Workspace ws, FaultProxy s3) throws Exception {
        s3.mode(FaultProxy.Mode.REFUSE);
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isEqualTo(1);
        assertThat(backup.err().strip().lines()).as(backup.toString()).hasSize(1);
        assertThat(backup.err()).startsWith("error: ").contains("is complete in 'local'")
                .contains("the service copies it there once the repository answers again")
                .contains("'stowage sync postgres' does it now");
        JsonNode listed = list(ws);
        String id = listed.get(listed.size() - 1).get("id").asText();
        assertThat(listed.get(listed.size() - 1).get("repositories").toString()).isEqualTo("[\"local\"]");
        return id;
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }

    private List<String> s3Keys(String prefix) {
        return S3TestServer.get().client().listObjectsV2(r -> r.bucket(bucket).prefix(prefix)).contents().stream()
                .map(o -> o.key()).toList();
    }

    private String s3Sha256(String key) throws Exception {
        byte[] bytes = S3TestServer.get().client().getObject(r -> r.bucket(bucket).key(key),
                ResponseTransformer.toBytes()).asByteArray();
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** The backup is complete in S3: its manifest, every object it lists with the manifest's SHA-256. */
    private void assertCompleteInS3(Workspace ws, String id) throws Exception {
        JsonNode manifest = ManifestCodec.JSON.readTree(ws.repository().resolve("postgres/" + id + "/manifest.json")
                .toFile());
        assertThat(s3Keys("postgres/" + id + "/")).contains("postgres/" + id + "/manifest.json");
        for (JsonNode object : manifest.get("objects")) {
            assertThat(s3Sha256("postgres/" + id + "/" + object.get("name").asText()))
                    .isEqualTo(object.get("sha256").asText());
        }
        JsonNode copied = ManifestCodec.JSON.readTree(S3TestServer.get().client().getObject(
                r -> r.bucket(bucket).key("postgres/" + id + "/manifest.json"), ResponseTransformer.toBytes())
                .asByteArray());
        assertThat(copied).isEqualTo(manifest);
    }

    @Test
    void should_catch_up_a_failed_copy_by_hand_after_a_dry_run_that_changes_nothing() throws Exception {
        Workspace ws = workspace(dir);
        String id = backupWhileS3IsDown(ws, s3);
        s3.mode(FaultProxy.Mode.PASS);

        // The dry run names what is missing where, and copies nothing.
        Workspace.Result dry = ws.run("sync", "--dry-run");
        assertThat(dry.status()).as(dry.toString()).isEqualTo(1);
        assertThat(dry.out()).contains("missing: backup " + id + " of job postgres is missing in repository 's3' "
                + "(complete in local)");
        assertThat(dry.err().strip().lines()).as(dry.toString()).hasSize(1);
        assertThat(dry.err()).startsWith("error: 1 copy is missing").contains("'stowage sync'");
        assertThat(s3Keys("postgres/")).isEmpty();

        // Bad usage: exit 2, one line.
        for (String[] bad : List.of(new String[] {"sync", "--repository", "nowhere"}, new String[] {"sync", "nojob"},
                new String[] {"sync", "--no-such-option"})) {
            Workspace.Result refused = ws.run(bad);
            assertThat(refused.status()).as(refused.toString()).isEqualTo(2);
            assertThat(refused.err()).startsWith("error: ");
        }
        assertThat(s3Keys("postgres/")).isEmpty();

        // While S3 still refuses, sync says what it could not copy, and exits 1.
        s3.mode(FaultProxy.Mode.REFUSE);
        Workspace.Result refused = ws.run("sync", "postgres");
        assertThat(refused.status()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.err().strip().lines().toList().get(refused.err().strip().lines().toList().size() - 1))
                .startsWith("error: ").contains(id).contains("'s3'");
        s3.mode(FaultProxy.Mode.PASS);

        Workspace.Result sync = ws.run("sync", "postgres", "--repository", "s3");
        assertThat(sync.status()).as(sync.toString()).isZero();
        assertThat(sync.out()).contains("copied: backup " + id + " of job postgres copied to repository 's3' from "
                + "'local'").contains("every copy is in place");
        assertCompleteInS3(ws, id);
        assertThat(list(ws).get(0).get("repositories").toString()).isEqualTo("[\"local\",\"s3\"]");

        // Nothing left to do: a second sync copies nothing.
        Workspace.Result again = ws.run("sync");
        assertThat(again.status()).as(again.toString()).isZero();
        assertThat(again.out()).doesNotContain("copied:").contains("every copy is in place");

        // The copy restores from S3 alone.
        Workspace.Result restore = ws.run("restore", "postgres", "--from", "s3", "--target-database",
                "catch_up_restored");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(SampleDatabase.contents(ThrowawayPostgres.get(), "catch_up_restored"))
                .isEqualTo(SampleDatabase.contents(ThrowawayPostgres.get(), SOURCE));
    }

    @Test
    void should_refuse_to_propagate_a_damaged_copy() throws Exception {
        Workspace ws = workspace(dir);
        String id = backupWhileS3IsDown(ws, s3);
        s3.mode(FaultProxy.Mode.PASS);
        Path object;
        try (var files = Files.list(ws.repository().resolve("postgres/" + id))) {
            object = files.filter(f -> f.getFileName().toString().startsWith("dump.")).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(object);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(object, bytes);

        Workspace.Result sync = ws.run("sync");
        assertThat(sync.status()).as(sync.toString()).isEqualTo(1);
        assertThat(sync.err().strip().lines().toList()).last().asString().startsWith("error: backup " + id
                + " of job postgres could not be copied to repository 's3'").contains("is damaged")
                .contains(object.getFileName().toString());
        assertThat(s3Keys("postgres/")).isEmpty();
    }

    @Test
    void should_let_one_sync_run_at_a_time() throws Exception {
        Workspace ws = workspace(dir).property("stowage.catch-up.lock-wait-seconds", "0");
        String id = backupWhileS3IsDown(ws, s3);
        s3.mode(FaultProxy.Mode.PASS);

        // Another catch-up holds the lock: sync says so and changes nothing.
        try (ExclusiveLock held = ExclusiveLock.tryAcquire(ws.repository().resolve(CatchUp.LOCK_FILE))
                .orElseThrow()) {
            Workspace.Result busy = ws.run("sync");
            assertThat(busy.status()).as(busy.toString()).isEqualTo(1);
            assertThat(busy.err()).startsWith("error: another catch-up of copies").contains("is running");
            assertThat(s3Keys("postgres/")).isEmpty();
        }

        // Two syncs at once, each its own process: one copies, the other waits for it and finds nothing to do.
        ws.property("stowage.catch-up.lock-wait-seconds", "120");
        Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", S3TestServer.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY",
                S3TestServer.SECRET_KEY);
        ws.writeConfiguration();
        String config = ws.dir().resolve("application.properties").toString();
        Process first = StowageProcess.builder(dir, env, "--config", config, "sync")
                .redirectOutput(dir.resolve("first.out").toFile()).redirectError(dir.resolve("first.err").toFile())
                .start();
        Process second = StowageProcess.builder(dir, env, "--config", config, "sync")
                .redirectOutput(dir.resolve("second.out").toFile()).redirectError(dir.resolve("second.err").toFile())
                .start();
        try {
            assertThat(first.waitFor(180, TimeUnit.SECONDS)).isTrue();
            assertThat(second.waitFor(180, TimeUnit.SECONDS)).isTrue();
        } finally {
            first.destroyForcibly();
            second.destroyForcibly();
        }
        String out = Files.readString(dir.resolve("first.out")) + Files.readString(dir.resolve("second.out"));
        String err = Files.readString(dir.resolve("first.err")) + Files.readString(dir.resolve("second.err"));
        assertThat(first.exitValue()).as(out + err).isZero();
        assertThat(second.exitValue()).as(out + err).isZero();
        assertThat(out.lines().filter(l -> l.startsWith("copied: backup " + id))).hasSize(1);
        assertCompleteInS3(ws, id);
        assertThat(s3Keys("postgres/" + id + "/")).noneMatch(k -> k.contains(".tmp-"));
    }

    @Test
    void should_catch_up_in_the_service_without_a_new_backup_and_say_what_is_missing_where() throws Exception {
        int port = ThrowawayPostgres.freePort();
        Workspace ws = workspace(dir).property("stowage.catch-up.interval-seconds", "1")
                .property("camel.management.enabled", "true")
                .property("camel.management.port", Integer.toString(port))
                .property("camel.management.metrics-enabled", "true")
                .property("camel.metrics.enabled", "true")
                .property("camel.metrics.skip-camel-info", "true")
                .property("stowage.staleness.first-check-ms", "3600000");
        Path config = ws.writeConfiguration();
        Path log = dir.resolve("service.log");
        Process service = StowageProcess.builder(dir, Map.of("AWS_ACCESS_KEY_ID", S3TestServer.ACCESS_KEY,
                        "AWS_SECRET_ACCESS_KEY", S3TestServer.SECRET_KEY), "--config", config.toString(), "run")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await(() -> metric(port, "repository=\"s3\"") == 0.0, "stowage_copies_missing at 0 for s3", log);

            String id = backupWhileS3IsDown(ws, s3);
            await(() -> metric(port, "repository=\"s3\"") == 1.0, "stowage_copies_missing at 1 for s3", log);
            assertThat(metric(port, "repository=\"local\"")).isZero();
            // One warning for the outage, however many rounds it lasts.
            await(() -> Files.readString(log).contains("repository s3 does not answer"), "the outage's warning", log);

            s3.mode(FaultProxy.Mode.PASS);
            await(() -> Files.readString(log).contains("backup " + id + " of job postgres copied to repository s3 "
                    + "(caught up)"), "the catch-up of " + id, log);
            await(() -> metric(port, "repository=\"s3\"") == 0.0, "stowage_copies_missing back at 0", log);
            assertCompleteInS3(ws, id);
            assertThat(list(ws).get(0).get("repositories").toString()).isEqualTo("[\"local\",\"s3\"]");
            String output = Files.readString(log);
            assertThat(output.lines().filter(l -> l.contains("repository s3 does not answer"))).hasSize(1);
            // The rounds during the outage add no retry warnings of their own: only the first round's retries.
            long retries = output.lines().filter(l -> l.contains("WARN") && l.contains("repository s3:")).count();
            assertThat(retries).as(output).isLessThanOrEqualTo(2);
            assertThat(output).contains("repository s3 answers again");
            assertThat(output.lines().filter(l -> l.contains("(caught up)"))).hasSize(1);
        } finally {
            service.destroy();
            assertThat(service.waitFor(90, TimeUnit.SECONDS)).isTrue();
            service.destroyForcibly();
        }
    }

    @Test
    void should_not_retry_a_scheduled_backup_whose_copy_failed_as_a_new_backup() throws Exception {
        Workspace ws = workspace(dir).property("stowage.retry.attempts", "3").property("stowage.retry.delay-ms", "1")
                .property("stowage.catch-up.interval-seconds", "0")
                .property("stowage.staleness.first-check-ms", "3600000");
        s3.mode(FaultProxy.Mode.REFUSE);
        try (io.stowage.runtime.StowageService service = ws.service()) {
            org.apache.camel.Exchange done = service.runtime().context().createProducerTemplate().send(
                    "direct:run-backup", exchange -> {
                        exchange.getIn().setHeader("StowageJob", "postgres");
                        exchange.getIn().setHeader("StowageBackupType", "full");
                        exchange.getIn().setHeader("StowageTrigger", "schedule");
                    });
            Throwable failure = done.getProperty(io.stowage.services.StowageServices.FAILURE_PROPERTY,
                    Throwable.class);
            assertThat(failure).isNotNull();
            assertThat(failure.getMessage()).contains("is complete in 'local'")
                    .contains("'stowage sync postgres' does it now");
            // One attempt: the backup is good where it was written; only its copy waits for S3.
            assertThat(done.getProperty("StowageAttempts", Integer.class)).isEqualTo(1);
            s3.mode(FaultProxy.Mode.PASS);
            JsonNode listed = list(ws);
            assertThat(listed).hasSize(1);
            assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"local\"]");
        }
    }

    /** Writes a log object and, unless {@code checksum} is null, its checksum file, as the log route does. */
    private static void logFile(Path archive, String name, byte[] bytes, String checksum) throws Exception {
        Files.createDirectories(archive);
        Files.write(archive.resolve(name), bytes);
        if (checksum != null) {
            Files.writeString(archive.resolve(name + ".sha256"), checksum + "  " + name + "\n");
        }
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void should_copy_log_files_a_repository_lacks_proven_by_their_checksum_files() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Path nasRoot = dir.resolve("nas");
        Workspace ws = new Workspace(dir).physicalJob("main", ThrowawayPostgres.get(), spool)
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", nasRoot.toString());
        Path local = ws.repository().resolve("main/wal");
        Path nas = nasRoot.resolve("main/wal");
        byte[] one = "segment one".getBytes();
        byte[] two = "segment two".getBytes();
        byte[] three = "segment three".getBytes();
        byte[] four = "segment four".getBytes();
        byte[] five = "segment five".getBytes();
        logFile(local, "000000010000000000000001.zst", one, sha256(one));
        logFile(local, "000000010000000000000002.zst", two, sha256(two));
        logFile(local, "000000010000000000000003.zst", three, sha256("not segment three".getBytes()));
        logFile(local, "000000010000000000000004.zst", four, sha256(four));
        logFile(nas, "000000010000000000000005.zst", five, sha256(five));
        // Still in the spool: the log route ships it to every repository itself.
        Files.writeString(spool.resolve("000000010000000000000004"), "in flight");

        Workspace.Result dry = ws.run("sync", "--dry-run");
        assertThat(dry.status()).as(dry.toString()).isEqualTo(1);
        assertThat(dry.out()).contains("missing: 3 log file(s) of job main (000000010000000000000001.zst to "
                + "000000010000000000000003.zst) missing in repository 'nas'")
                .contains("missing: 1 log file(s) of job main (000000010000000000000005.zst) missing in repository "
                        + "'local'");
        assertThat(nas.resolve("000000010000000000000001.zst")).doesNotExist();

        Workspace.Result sync = ws.run("sync", "main");
        assertThat(sync.status()).as(sync.toString()).isEqualTo(1);
        assertThat(sync.out()).contains("copied: 2 log file(s) of job main copied to repository 'nas'")
                .contains("copied: 1 log file(s) of job main copied to repository 'local'");
        assertThat(sync.err().strip().lines().toList()).last().asString().startsWith("error: ")
                .contains("000000010000000000000003.zst").contains("is damaged");
        assertThat(nas.resolve("000000010000000000000001.zst")).hasBinaryContent(one);
        assertThat(nas.resolve("000000010000000000000001.zst.sha256")).hasContent(sha256(one)
                + "  000000010000000000000001.zst");
        assertThat(nas.resolve("000000010000000000000002.zst")).hasBinaryContent(two);
        assertThat(nas.resolve("000000010000000000000003.zst")).doesNotExist();
        assertThat(nas.resolve("000000010000000000000004.zst")).doesNotExist();
        assertThat(local.resolve("000000010000000000000005.zst")).hasBinaryContent(five);
        assertThat(local.resolve("000000010000000000000005.zst.sha256")).exists();
        try (var files = Files.list(nas)) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(Condition condition, String what, Path log) throws Exception {
        long deadline = System.currentTimeMillis() + 90_000;
        while (true) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception | AssertionError notYet) {
                // the service is still starting
            }
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("never saw " + what + ":\n" + Files.readString(log) + lastMetrics);
            }
            Thread.sleep(100);
        }
    }

    private static volatile String lastMetrics = "";

    /** The value of stowage_copies_missing{job="postgres",<label>}. */
    private static double metric(int port, String label) throws Exception {
        String metrics = io.stowage.testing.ManagementClient.get(port, "/observe/metrics");
        lastMetrics = metrics.lines().filter(l -> l.contains("stowage_")).reduce("", (a, b) -> a + b + "\n");
        for (String line : metrics.split("\n")) {
            if (line.startsWith("stowage_copies_missing{") && line.contains("job=\"postgres\"")
                    && line.contains(label)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }
}
