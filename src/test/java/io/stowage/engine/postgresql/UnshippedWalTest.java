package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.StowageService;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A physical backup is restorable from a repository only once every WAL segment from its start to its stop segment
 * is archived there. Taken while the service is stopped, its WAL waits in the spool: restore refuses (before it
 * writes anything), {@code list}, {@code check} and {@code verify} say so, and once the service has shipped the WAL
 * the same restore works; a repository that lacks part of it is passed over for one that has it all.
 */
class UnshippedWalTest {
    private static ThrowawayPostgres cluster;
    private static Path spool;

    @TempDir
    Path dir;

    @BeforeAll
    static void startArchivingCluster() throws Exception {
        spool = ThrowawayPostgres.serverWritableDirectory(Files.createTempDirectory(Path.of("/tmp"), "stowage-spool-"));
        cluster = WalTesting.archivingCluster(spool);
        cluster.execute("postgres", "CREATE TABLE t (id serial PRIMARY KEY, note text)",
                "INSERT INTO t (note) SELECT 'row ' || g FROM generate_series(1, 100) g");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.stop();
        }
        ThrowawayPostgres.deleteTree(spool);
    }

    private static long spooled() throws Exception {
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }

    /** Waits until {@code segment} is in the local repository and nothing waits in the spool. */
    private static void awaitShipped(Workspace ws, String segment) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while ((!WalTesting.walKeys(ws, "postgres").contains(segment + ".zst") || spooled() > 0)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(WalTesting.walKeys(ws, "postgres")).contains(segment + ".zst");
        assertThat(spooled()).isZero();
    }

    private static JsonNode entry(Workspace ws, String id) throws Exception {
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        for (JsonNode entry : ManifestCodec.JSON.readTree(list.out())) {
            if (entry.get("id").asText().equals(id)) {
                return entry;
            }
        }
        throw new AssertionError("backup " + id + " not listed: " + list);
    }

    private static List<String> segments(JsonNode entry) {
        List<String> names = new ArrayList<>();
        for (String s = entry.get("walStart").asText(); ; s = WalNames.next(s, 16L * 1024 * 1024)) {
            names.add(s);
            if (s.equals(entry.get("walStop").asText())) {
                return names;
            }
        }
    }

    private static long rows(ThrowawayPostgres server) throws Exception {
        return server.number("postgres", "SELECT count(*) FROM t");
    }

    @Test
    void should_refuse_to_restore_a_backup_whose_wal_is_not_in_a_repository_and_restore_it_once_shipped()
            throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool).s3(bucket, "")
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()))
                .property("stowage.scratch.path", dir.resolve("scratch").toString());
        // An earlier backup whose WAL the service shipped: the archive has no gap up to now.
        try (StowageService service = ws.service()) {
            WalTesting.backupNow(service, "postgres");
            awaitShipped(ws, WalTesting.switchWal(cluster));
        }
        // The service is stopped: a backup taken now has its WAL in the spool only.
        cluster.execute("postgres", "INSERT INTO t (note) VALUES ('in the second backup')");
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        JsonNode entry = entry(ws, id);
        List<String> needed = segments(entry);
        assertThat(needed).allMatch(s -> Files.exists(spool.resolve(s)));

        Path target = dir.resolve("restored");
        Workspace.Result refused = ws.run("restore", "postgres", "--backup", id, "--target-datadir", target.toString());
        assertThat(refused.status()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.err()).as(refused.toString()).startsWith("error: backup " + id + " of job 'postgres' "
                + "cannot be restored: WAL segment(s) " + needed.get(0)).contains("missing from repository 'local'")
                .contains("missing from repository 's3'").contains("HINT: ").contains("stowage run");
        assertThat(refused.err().lines()).hasSize(1);
        assertThat(target).as("nothing is written before the refusal").doesNotExist();

        Workspace.Result check = ws.run("check", "postgres");
        assertThat(check.status()).as(check.toString()).isEqualTo(1);
        assertThat(check.out()).as(check.toString()).contains("FAIL  wal postgres in local: backup " + id
                + " lacks WAL segment(s) " + needed.get(0)).contains("FAIL  wal postgres in s3: backup " + id)
                .contains("wait in " + spool).doesNotContain("ok    wal postgres in local");

        assertThat(entry.get("walComplete")).as(entry.toString()).isNotNull();
        assertThat(entry.get("walComplete").size()).isZero();
        List<String> missing = new ArrayList<>();
        entry.get("walMissing").get("local").forEach(s -> missing.add(s.asText()));
        assertThat(missing).isEqualTo(needed);
        assertThat(entry.get("walMissing").get("s3").size()).isEqualTo(needed.size());
        Workspace.Result table = ws.run("list", "postgres");
        assertThat(table.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow())
                .contains("missing:local,s3");

        Workspace.Result verify = ws.run("verify", "postgres", "--backup", id);
        assertThat(verify.status()).as(verify.toString()).isEqualTo(1);
        assertThat(verify.err()).as(verify.toString()).startsWith("error: ").contains(needed.get(0))
                .contains("missing from repository 'local'");

        // The service ships what waited to both repositories.
        try (StowageService service = ws.service()) {
            awaitShipped(ws, needed.get(needed.size() - 1));
        }
        Workspace.Result checked = ws.run("check", "postgres");
        assertThat(checked.out()).as(checked.toString()).doesNotContain("FAIL  wal")
                .contains("ok    wal postgres in local").contains("ok    wal postgres in s3");
        // Then the local copy of one of the backup's segments is lost: that repository is passed over for S3.
        String lost = needed.get(needed.size() - 1);
        Files.delete(ws.repository().resolve("postgres/wal").resolve(lost + ".zst"));
        JsonNode shipped = entry(ws, id);
        assertThat(shipped.get("walComplete").size()).isEqualTo(1);
        assertThat(shipped.get("walComplete").get(0).asText()).isEqualTo("s3");
        assertThat(shipped.get("walMissing").get("local").get(0).asText()).isEqualTo(lost);
        assertThat(shipped.get("walMissing").has("s3")).isFalse();

        Workspace.Result restore = ws.run("restore", "postgres", "--backup", id, "--target-datadir", target.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.err()).contains("warning: repository 'local' lacks WAL segment(s) " + lost)
                .contains("restoring from repository 's3'");
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(target);
        try {
            restored.awaitRecoveryEnd();
            assertThat(rows(restored)).isEqualTo(101);
        } finally {
            restored.stop();
        }
    }
}
