package io.stowage.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.StowageService;
import io.stowage.testing.BackupHistory;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expiry of a physical PostgreSQL job with WAL archiving, then a real point-in-time restore from what it kept: four
 * full backups with writes between them, {@code retention: 2} and {@code logRetention: 7}. A server's clock cannot be
 * moved, so every backup is younger than the log window: the archive must then stay continuous from the oldest kept
 * backup's start, and the WAL before it goes with the backups the count releases.
 */
class ExpiryRestoreTest {
    private static final String JOB = "postgres";
    private static ThrowawayPostgres cluster;
    private static Path spool;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    @BeforeAll
    static void startArchivingCluster() throws Exception {
        spool = ThrowawayPostgres.serverWritableDirectory(shared.resolve("spool"));
        cluster = WalTesting.archivingCluster(spool);
        cluster.execute("postgres", "CREATE TABLE t (id bigserial PRIMARY KEY, note text)");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.stop();
        }
    }

    @Test
    void should_expire_the_oldest_backups_and_their_wal_and_restore_a_point_between_the_kept_ones() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob(JOB, cluster, spool, List.of());
        List<String> ids = new ArrayList<>();
        Instant target = null;
        Instant expiredPoint = null;
        long lastBeforeTarget = 0;
        try (StowageService service = ws.service()) {
            for (int i = 0; i < 4; i++) {
                WalTesting.backupNow(service, JOB);
                List<String> listed = BackupHistory.ids(list(ws));
                ids.add(listed.get(listed.size() - 1));
                cluster.execute("postgres", "INSERT INTO t (note) SELECT 'after backup " + i + " row ' || g "
                        + "FROM generate_series(1, 100) g");
                if (i == 0) {
                    expiredPoint = WalTesting.serverNow(cluster);
                }
                if (i == 2) {
                    // The point to restore: between the two backups that will be kept.
                    lastBeforeTarget = cluster.number("postgres", "SELECT max(id) FROM t");
                    Thread.sleep(300);
                    target = WalTesting.serverNow(cluster);
                    Thread.sleep(300);
                    cluster.execute("postgres", "INSERT INTO t (note) SELECT 'after the target row ' || g "
                            + "FROM generate_series(1, 50) g");
                }
                awaitShipped(ws, WalTesting.switchWal(cluster));
                Thread.sleep(1000); // backup ids are to the second
            }
        }
        assertThat(ids).doesNotHaveDuplicates().hasSize(4);
        JsonNode oldestKept = entry(ws, ids.get(2));
        String keptStart = oldestKept.get("walStart").asText();
        List<String> walBefore = WalTesting.walKeys(ws, JOB);
        List<String> olderThanKept = walBefore.stream().filter(k -> isWal(k) && position(k).compareTo(
                position(keptStart)) < 0).toList();
        assertThat(olderThanKept).as("WAL of the backups to expire, before: %s", walBefore).isNotEmpty();

        // The operator sets the policy, looks first, then expires.
        ws.physicalJob(JOB, cluster, spool, List.of("retention", "2", "logRetention", "7"));
        var filesBefore = BackupHistory.files(ws.repository());
        Workspace.Result dryRun = ws.run("expire", "--dry-run");
        assertThat(dryRun.status()).as(dryRun.toString()).isZero();
        assertThat(BackupHistory.files(ws.repository())).as("a dry run deletes nothing").isEqualTo(filesBefore);
        assertThat(row(dryRun, ids.get(0))).contains(" expire ").contains("policy 2: older than the newest 2 full");
        assertThat(row(dryRun, ids.get(1))).contains(" expire ").contains("policy 2: older than the newest 2 full");
        assertThat(row(dryRun, ids.get(2))).contains(" keep ").contains("policy 2: one of the newest 2 full backups");
        assertThat(row(dryRun, ids.get(3))).contains(" keep ").contains("policy 2: one of the newest 2 full backups");
        assertThat(dryRun.out()).as(dryRun.toString()).contains("log file(s) of postgres in repository 'local'")
                .contains("would expire; continuous from backup " + ids.get(2));

        Workspace.Result expire = ws.run("expire");
        assertThat(expire.status()).as(expire.toString()).isZero();
        assertThat(expire.lastLine()).startsWith("expired 2 backup(s), ");

        assertThat(BackupHistory.ids(list(ws))).containsExactly(ids.get(2), ids.get(3));
        assertThat(BackupHistory.directories(ws.repository(), JOB)).containsExactly(ids.get(2), ids.get(3));
        List<String> walAfter = WalTesting.walKeys(ws, JOB);
        assertThat(walAfter).as("no WAL object before the oldest kept backup's start " + keptStart)
                .noneMatch(k -> isWal(k) && !k.contains(".history") && position(k).compareTo(position(keptStart)) < 0);
        assertThat(walAfter).as("what was there from the oldest kept backup's start on stays")
                .containsAll(walBefore.stream().filter(k -> !olderThanKept.contains(k)).toList());
        for (String id : ids.subList(2, 4)) {
            JsonNode kept = entry(ws, id);
            assertThat(kept.get("walMissing").size()).as(kept.toString()).isZero();
            assertThat(kept.get("walComplete").toString()).isEqualTo("[\"local\"]");
        }

        Workspace.Result check = ws.run("check", JOB);
        assertThat(check.status()).as(check.toString()).isZero();
        assertThat(check.out()).as(check.toString()).doesNotContain("FAIL")
                .contains("ok    wal postgres in local: no gap since " + keptStart + " (backup " + ids.get(2) + ")")
                .contains("retention postgres in local: 2 (job parameter retention), logRetention 7; keeps 2 of 2");

        // A point only the expired backups and their WAL could restore: refused, not quietly another one.
        Workspace.Result gone = ws.run("restore", JOB, "--time", expiredPoint.toString(), "--target-datadir",
                dir.resolve("expired-point").toString());
        assertThat(gone.status()).as(gone.toString()).isEqualTo(1);
        assertThat(gone.err()).as(gone.toString()).startsWith("error: target time " + expiredPoint
                + " is before the oldest backup");
        assertThat(dir.resolve("expired-point")).doesNotExist();

        Path pitr = dir.resolve("pitr");
        Workspace.Result restore = ws.run("restore", JOB, "--time", target.toString(), "--target-datadir",
                pitr.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(pitr);
        try {
            restored.awaitRecoveryEnd();
            assertThat(ids(restored)).as("exactly the rows committed before " + target)
                    .isEqualTo(ids(cluster, "id <= " + lastBeforeTarget));
        } finally {
            restored.stop();
        }
    }

    private static List<Long> ids(ThrowawayPostgres server) throws Exception {
        return ids(server, "true");
    }

    private static List<Long> ids(ThrowawayPostgres server, String where) throws Exception {
        List<Long> ids = new ArrayList<>();
        try (var c = server.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT id FROM t WHERE " + where + " ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    /** The line of the expire table that names backup {@code id}. */
    private static String row(Workspace.Result result, String id) {
        return result.out().lines().filter(l -> l.contains(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no row of " + id + " in\n" + result));
    }

    private static String list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", JOB, "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return list.out();
    }

    private static JsonNode entry(Workspace ws, String id) throws Exception {
        for (JsonNode entry : ManifestCodec.JSON.readTree(list(ws))) {
            if (entry.get("id").asText().equals(id)) {
                return entry;
            }
        }
        throw new AssertionError("backup " + id + " is not listed");
    }

    /** A WAL segment, backup history file or their checksum files: named by a segment. */
    private static boolean isWal(String key) {
        return key.matches("[0-9A-F]{24}.*");
    }

    /** A segment's position whatever its timeline. */
    private static String position(String key) {
        return key.substring(8, 24);
    }

    private static void awaitShipped(Workspace ws, String segment) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while ((!WalTesting.walKeys(ws, JOB).contains(segment + ".zst") || spooled() > 0)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(WalTesting.walKeys(ws, JOB)).contains(segment + ".zst");
    }

    private static long spooled() throws Exception {
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }
}
