package io.stowage.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.BackupHistory;
import io.stowage.testing.LockHolder;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Undeletable;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code expire}, {@code pin} and {@code unpin} from the command line, on a real logical backup and a history made of
 * copies of it dated back (BackupHistory): the dry run and its reasons, pins in every repository, damaged copies, and
 * a job whose backup holds its lock.
 *
 * <p>PostgreSQL 15 takes full backups only; the differential backups of these histories are copies written as a
 * newer server's differential would be (type {@code diff}, a parent), which is all expiry reads of them.
 */
class ExpireCommandTest {
    private static final String SOURCE = "expire_source";
    private static final String JOB = "postgres";

    @TempDir
    static Path seed;

    /** The real backup every history is copied from. */
    private static Path real;

    @TempDir
    Path dir;

    @BeforeAll
    static void takeOneRealBackup() throws Exception {
        ThrowawayPostgres.get().createDatabase(SOURCE, "CREATE TABLE t (id int PRIMARY KEY, note text)",
                "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 500) g");
        Workspace ws = new Workspace(seed).job(JOB, SOURCE);
        Workspace.Result backup = ws.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isZero();
        real = ws.repository().resolve(JOB).resolve(backup.lastLine());
    }

    @AfterAll
    static void dropSource() {
        ThrowawayPostgres.get().dropDatabase(SOURCE);
    }

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);

    private static Instant daysAgo(int days) {
        return NOW.minus(Duration.ofDays(days));
    }

    /** A backup of the history, dated {@code days} ago, in each of {@code repositories}. */
    private static String backup(int days, BackupType type, String parent, Path... repositories) throws Exception {
        String id = null;
        for (Path repository : repositories) {
            id = BackupHistory.copy(real, repository, JOB, daysAgo(days), type, parent);
        }
        return id;
    }

    private Workspace workspace(String... parameters) throws Exception {
        return new Workspace(dir).job(JOB, SOURCE, parameters);
    }

    private static String row(Workspace.Result result, String id) {
        return result.out().lines().filter(l -> l.contains(" " + id + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row of " + id + " in\n" + result));
    }

    private static String row(Workspace.Result result, String repository, String id) {
        return result.out().lines().filter(l -> l.matches(JOB + " +" + repository + " +" + id + " .*")).findFirst()
                .orElseThrow(() -> new AssertionError("no row of " + id + " in " + repository + " in\n" + result));
    }

    private static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", JOB, "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }

    private static JsonNode entry(Workspace ws, String id) throws Exception {
        for (JsonNode entry : list(ws)) {
            if (entry.get("id").asText().equals(id)) {
                return entry;
            }
        }
        throw new AssertionError("backup " + id + " is not listed");
    }

    private static void assertUsage(Workspace.Result result, String start) {
        assertThat(result.status()).as(result.toString()).isEqualTo(2);
        assertThat(result.err().lines().toList()).as(result.toString()).hasSize(1);
        assertThat(result.err()).as(result.toString()).startsWith(start);
    }

    @Test
    void should_print_every_decision_with_its_age_and_reason_in_a_dry_run_and_delete_nothing() throws Exception {
        Workspace ws = workspace("retention", "1d,1w");
        Path repo = ws.repository();
        String f1 = backup(40, BackupType.FULL, null, repo);
        String d1 = backup(39, BackupType.DIFF, f1, repo);
        String f2 = backup(30, BackupType.FULL, null, repo);
        String f3 = backup(20, BackupType.FULL, null, repo);
        String d3 = backup(19, BackupType.DIFF, f3, repo);
        Workspace.Result pin = ws.run("pin", JOB, f1, "--reason", "audit 2026");
        assertThat(pin.status()).as(pin.toString()).isZero();

        var before = BackupHistory.files(repo);
        Workspace.Result dryRun = ws.run("expire", "--dry-run");
        assertThat(dryRun.status()).as(dryRun.toString()).isZero();
        assertThat(BackupHistory.files(repo)).as("a dry run changes nothing").isEqualTo(before);
        String header = dryRun.out().lines().findFirst().orElseThrow();
        assertThat(header.split("\\s+")).containsExactly("JOB", "REPOSITORY", "ID", "TYPE", "AGE", "WOULD", "WHY");
        assertThat(row(dryRun, f1)).matches(JOB + " +local +" + f1 + " +full +40d0h +keep +pinned");
        assertThat(row(dryRun, d1)).matches(JOB + " +local +" + d1 + " +diff +39d0h +expire +policy 1d,1w: its "
                + "chain's full \\(" + f1 + "\\) is not kept");
        assertThat(row(dryRun, f2)).matches(JOB + " +local +" + f2 + " +full +30d0h +expire +policy 1d,1w: not the "
                + "newest full of any kept day, week, month or year");
        assertThat(row(dryRun, f3)).matches(JOB + " +local +" + f3 + " +full +20d0h +keep +needed by kept backup "
                + d3);
        assertThat(row(dryRun, d3)).matches(JOB + " +local +" + d3 + " +diff +19d0h +keep +last backup of the job in "
                + "this repository");
        assertThat(dryRun.out()).doesNotContain("expired ");

        Workspace.Result expire = ws.run("expire", JOB);
        assertThat(expire.status()).as(expire.toString()).isZero();
        assertThat(row(expire, d1)).contains(" gone ");
        assertThat(expire.lastLine()).isEqualTo("expired 2 backup(s), 0 log object(s), 0 incomplete backup(s)");
        assertThat(BackupHistory.directories(repo, JOB)).containsExactly(f1, f3, d3);
        assertThat(BackupHistory.ids(ws.run("list", JOB, "--json").out())).containsExactly(f1, f3, d3);
    }

    @Test
    void should_pin_a_backup_in_every_repository_keep_it_and_its_chain_and_let_it_go_once_unpinned()
            throws Exception {
        Path nas = dir.resolve("nas");
        Workspace ws = workspace("retention", "1")
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", nas.toString());
        Path local = ws.repository();
        String f1 = backup(30, BackupType.FULL, null, local, nas);
        String d1 = backup(29, BackupType.DIFF, f1, local, nas);
        String f2 = backup(20, BackupType.FULL, null, local, nas);
        String f3 = backup(10, BackupType.FULL, null, local, nas);

        Workspace.Result pin = ws.run("pin", JOB, d1, "--reason", "legal hold");
        assertThat(pin.status()).as(pin.toString()).isZero();
        assertThat(pin.out()).contains("pinned backup " + d1 + " of job postgres in local, nas (legal hold)");
        for (Path repository : List.of(local, nas)) {
            Path file = repository.resolve(JOB).resolve(d1).resolve("pinned.json");
            assertThat(file).exists();
            JsonNode written = ManifestCodec.JSON.readTree(file.toFile());
            assertThat(written.get("reason").asText()).isEqualTo("legal hold");
            assertThat(written.get("id").asText()).isEqualTo(d1);
        }
        assertThat(entry(ws, d1).get("pinned").asBoolean()).isTrue();
        for (String other : List.of(f1, f2, f3)) {
            assertThat(entry(ws, other).get("pinned").asBoolean()).as(other).isFalse();
        }

        Workspace.Result expire = ws.run("expire");
        assertThat(expire.status()).as(expire.toString()).isZero();
        for (String repository : List.of("local", "nas")) {
            assertThat(row(expire, repository, d1)).matches(".* keep +pinned");
            assertThat(row(expire, repository, f1)).matches(".* keep +needed by kept backup " + d1);
            assertThat(row(expire, repository, f2)).matches(".* gone +policy 1: older than the newest 1 full backups");
            assertThat(row(expire, repository, f3)).matches(".* keep +policy 1: one of the newest 1 full backups");
        }
        for (Path repository : List.of(local, nas)) {
            assertThat(BackupHistory.directories(repository, JOB)).containsExactly(f1, d1, f3);
        }

        Workspace.Result unpin = ws.run("unpin", JOB, d1);
        assertThat(unpin.status()).as(unpin.toString()).isZero();
        for (Path repository : List.of(local, nas)) {
            assertThat(repository.resolve(JOB).resolve(d1).resolve("pinned.json")).doesNotExist();
        }
        assertThat(entry(ws, d1).get("pinned").asBoolean()).isFalse();
        Workspace.Result after = ws.run("expire");
        assertThat(after.status()).as(after.toString()).isZero();
        for (Path repository : List.of(local, nas)) {
            assertThat(BackupHistory.directories(repository, JOB)).containsExactly(f3);
        }

        // What cannot be pinned or unpinned.
        String unknown = "20200101T000000Z-F";
        Workspace.Result missing = ws.run("pin", JOB, unknown);
        assertThat(missing.status()).as(missing.toString()).isEqualTo(1);
        assertThat(missing.err().lines().toList()).as(missing.toString()).containsExactly("error: backup '" + unknown
                + "' of job 'postgres' not found; HINT: 'stowage list postgres' shows the complete backups");
        assertUsage(ws.run("unpin", JOB, f3), "error: backup " + f3 + " of job postgres is not pinned");
        assertUsage(ws.run("pin", JOB, "yesterday"), "error: 'yesterday' is not a backup id (like "
                + "20261121T020000Z-F)");
        assertUsage(ws.run("pin", JOB, "latest"), "error: 'latest' is not a backup id");
        assertUsage(ws.run("pin", "postgress", f3), "error: unknown job 'postgress'; jobs defined in routes/: "
                + "postgres");
        assertUsage(ws.run("unpin", "postgress", f3), "error: unknown job 'postgress'; jobs defined in routes/: "
                + "postgres");
        assertThat(BackupHistory.files(local).stream().filter(f -> f.contains("pinned.json"))).isEmpty();
    }

    @Test
    void should_show_a_damaged_copy_fail_check_on_it_and_expire_it_only_when_the_policy_releases_it()
            throws Exception {
        Workspace ws = workspace("retention", "2");
        Path repo = ws.repository();
        String f1 = backup(30, BackupType.FULL, null, repo);
        String f2 = backup(20, BackupType.FULL, null, repo);
        String f3 = backup(10, BackupType.FULL, null, repo);
        String object = "dump.pgfc.zst";
        Files.delete(repo.resolve(JOB).resolve(f2).resolve(object));

        JsonNode damaged = entry(ws, f2);
        assertThat(damaged.get("damaged").toString()).isEqualTo("{\"local\":[\"dump.pgfc.zst\"]}");
        assertThat(entry(ws, f3).has("damaged")).isFalse();
        assertThat(ws.run("list", JOB).out().lines().filter(l -> l.startsWith(f2))).singleElement().asString()
                .contains("local(damaged)");
        Workspace.Result check = ws.run("check", JOB);
        assertThat(check.status()).as(check.toString()).isEqualTo(1);
        assertThat(check.out()).contains("FAIL  backup " + f2 + " of job postgres in repository local is damaged: 1 "
                + "object(s) its manifest names are missing (dump.pgfc.zst)");

        // The policy keeps it: it stays, marked.
        Workspace.Result expire = ws.run("expire");
        assertThat(expire.status()).as(expire.toString()).isZero();
        assertThat(row(expire, f2)).contains(" keep ").contains("[damaged: objects missing here]");
        assertThat(BackupHistory.directories(repo, JOB)).containsExactly(f2, f3);

        // The newest is damaged too: the newest sound one is kept besides it, whatever the policy.
        ws.job(JOB, SOURCE, "retention", "1");
        String f4 = backup(5, BackupType.FULL, null, repo);
        Files.delete(repo.resolve(JOB).resolve(f4).resolve(object));
        Workspace.Result newest = ws.run("expire");
        assertThat(newest.status()).as(newest.toString()).isZero();
        assertThat(row(newest, f2)).contains(" gone ");
        assertThat(row(newest, f3)).contains(" keep ").contains("last restorable backup of the job in this repository");
        assertThat(row(newest, f4)).contains(" keep ").contains("[damaged: objects missing here]");
        assertThat(BackupHistory.directories(repo, JOB)).containsExactly(f3, f4);
        assertThat(f1).isNotIn(BackupHistory.directories(repo, JOB));

        // Released by the policy: it goes.
        String f5 = backup(1, BackupType.FULL, null, repo);
        Workspace.Result released = ws.run("expire");
        assertThat(released.status()).as(released.toString()).isZero();
        assertThat(row(released, f4)).contains(" gone ");
        assertThat(BackupHistory.directories(repo, JOB)).containsExactly(f5);
        Workspace.Result clean = ws.run("check", JOB);
        assertThat(clean.out()).as(clean.toString()).doesNotContain("damaged");
    }

    @Test
    void should_say_which_backups_it_could_not_delete_and_finish_on_the_next_run() throws Exception {
        Workspace ws = workspace("retention", "1");
        Path repo = ws.repository();
        String f0 = backup(40, BackupType.FULL, null, repo);
        String f1 = backup(30, BackupType.FULL, null, repo);
        String f2 = backup(20, BackupType.FULL, null, repo);
        String f3 = backup(10, BackupType.FULL, null, repo);
        Workspace.Result failed;
        try (Undeletable stuck = Undeletable.of(repo.resolve(JOB).resolve(f1))) {
            failed = ws.run("expire");
        }
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(failed.err().lines().toList()).as(failed.toString()).singleElement().asString()
                .startsWith("error: expiry failed: job postgres in repository 'local': cannot delete 'postgres/" + f1
                        + "/manifest.json'");
        // Newest first: f2 went, then f1 failed and f0 was not tried; the table says what happened to each.
        assertThat(BackupHistory.ids(list(ws).toString())).containsExactly(f0, f1, f3);
        assertThat(row(failed, f2)).matches(".* gone +policy 1: .*");
        assertThat(row(failed, f1)).matches(".* failed +policy 1: .*");
        assertThat(row(failed, f0)).matches(".* left +policy 1: .*");
        assertThat(row(failed, f3)).matches(".* keep +policy 1: .*");
        assertThat(failed.out()).doesNotContain("expired ");

        Workspace.Result again = ws.run("expire");
        assertThat(again.status()).as(again.toString()).isZero();
        assertThat(BackupHistory.directories(repo, JOB)).containsExactly(f3);
    }

    @Test
    void should_skip_a_job_whose_backup_holds_its_lock_and_delete_nothing() throws Exception {
        Workspace ws = workspace("retention", "1").property("stowage.expire.lock-wait-seconds", "2");
        Path repo = ws.repository();
        backup(30, BackupType.FULL, null, repo);
        backup(20, BackupType.FULL, null, repo);
        backup(10, BackupType.FULL, null, repo);
        Files.createDirectories(repo.resolve(JOB).resolve("20200101T000000Z-F"));
        Files.writeString(repo.resolve(JOB).resolve("20200101T000000Z-F/dump.pgfc.zst"), "left by a killed backup");
        java.util.Set<String> before;
        Workspace.Result expire;
        long started;
        try (LockHolder backupRunning = LockHolder.hold(repo.resolve(JOB).resolve(".lock"))) {
            before = BackupHistory.files(repo);
            started = System.nanoTime();
            expire = ws.run("expire");
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        assertThat(expire.status()).as(expire.toString()).isEqualTo(1);
        assertThat(expire.err()).as(expire.toString()).contains("job postgres not expired: a backup of it is running "
                + "and did not finish within 2 s (stowage.expire.lock-wait-seconds)");
        assertThat(expire.err().lines().toList()).as("said once, as the error").singleElement().asString()
                .startsWith("error: job postgres not expired: ");
        assertThat(expire.out()).as(expire.toString()).doesNotContain("no backups");
        assertThat(seconds).isGreaterThanOrEqualTo(2.0);
        assertThat(BackupHistory.files(repo)).as("nothing deleted").isEqualTo(before);

        Workspace.Result free = ws.run("expire");
        assertThat(free.status()).as(free.toString()).isZero();
        assertThat(free.lastLine()).isEqualTo("expired 2 backup(s), 0 log object(s), 1 incomplete backup(s)");
    }

    @Test
    void should_keep_pin_and_expiry_of_a_job_apart() throws Exception {
        Workspace ws = workspace("retention", "1").property("stowage.expire.lock-wait-seconds", "1");
        Path repo = ws.repository();
        String old = backup(30, BackupType.FULL, null, repo);
        backup(10, BackupType.FULL, null, repo);
        java.util.Set<String> before = BackupHistory.files(repo);
        Workspace.Result pin;
        Workspace.Result expire;
        // An expiry (or pin) of the job in another process holds the job's retention lock.
        try (LockHolder expiring = LockHolder.hold(repo.resolve(JOB).resolve(".retention.lock"))) {
            pin = ws.run("pin", JOB, old);
            expire = ws.run("expire");
        }
        assertThat(pin.status()).as(pin.toString()).isEqualTo(1);
        assertThat(pin.err()).as(pin.toString()).contains("an expiry of job 'postgres' is running and did not finish "
                + "within 1 s");
        assertThat(expire.status()).as(expire.toString()).isEqualTo(1);
        assertThat(expire.err()).contains("a 'stowage pin' or 'unpin' of it held its lock");
        assertThat(BackupHistory.files(repo).stream().filter(f -> !f.contains("/.")))
                .as("nothing pinned, nothing deleted").containsExactlyInAnyOrderElementsOf(before);

        Workspace.Result pinned = ws.run("pin", JOB, old);
        assertThat(pinned.status()).as(pinned.toString()).isZero();
        Workspace.Result kept = ws.run("expire");
        assertThat(kept.status()).as(kept.toString()).isZero();
        assertThat(BackupHistory.directories(repo, JOB)).contains(old);
    }
}
