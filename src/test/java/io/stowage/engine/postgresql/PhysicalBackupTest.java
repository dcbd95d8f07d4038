package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.engine.postgresql.PhysicalRestore;
import io.stowage.runtime.StowageService;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.time.Instant;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Physical backups and WAL archiving on a throwaway cluster that archives through bin/stowage-archive-wal into a
 * spool: the WAL is shipped to the repository and only then removed from the spool.
 */
class PhysicalBackupTest {
    private static ThrowawayPostgres cluster;
    private static Path spool;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    /** What a test puts outside its temporary directory, removed whatever the test's outcome. */
    private Path leftover;

    @AfterEach
    void removeLeftover() {
        ThrowawayPostgres.deleteTree(leftover);
    }

    @BeforeAll
    static void startArchivingCluster() throws Exception {
        spool = ThrowawayPostgres.serverWritableDirectory(shared.resolve("spool"));
        cluster = WalTesting.archivingCluster(spool);
        cluster.execute("postgres", "CREATE TABLE t (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp(),"
                + " note text)", "INSERT INTO t (note) SELECT 'row ' || g FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.stop();
        }
    }

    private static List<String> walKeys(Workspace ws) throws Exception {
        return WalTesting.walKeys(ws, "postgres");
    }

    private static long spooled() throws Exception {
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }

    @Test
    void should_take_a_physical_backup_and_ship_the_wal_it_needs() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "SELECT pg_switch_wal()");
            long deadline = System.currentTimeMillis() + 30_000;
            JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
            String stop = entry.get("walStop").asText();
            while (!walKeys(ws).contains(stop + ".zst") && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(entry.get("method").asText()).isEqualTo("physical");
            assertThat(entry.get("walStart").asText()).matches("[0-9A-F]{24}");
            assertThat(walKeys(ws)).contains(entry.get("walStart").asText() + ".zst", stop + ".zst");
            while (spooled() > 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(spooled()).isZero();
            Path partial = spool.resolve("000000010000000000000099.partial");
            Files.writeString(partial, "not a finished segment");
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('next')");
            awaitShippedIgnoring(ws, switchWal(), partial);
            assertThat(partial).as("only finished WAL files are taken from the spool").exists();
            Files.delete(partial);
            Path manifest = ws.repository().resolve("postgres").resolve(entry.get("id").asText()).resolve("manifest.json");
            JsonNode wal = ManifestCodec.JSON.readTree(manifest.toFile()).get("engineDetails").get("wal");
            assertThat(wal.get("timeline").asInt()).isEqualTo(1);
            assertThat(wal.get("segmentSize").asLong()).isEqualTo(16L * 1024 * 1024);
            assertThat(ws.repository().resolve("postgres").resolve(entry.get("id").asText()).resolve("base.tar.zst"))
                    .exists();
        }
    }

    @Test
    void should_ship_wal_to_every_repository_of_the_job_and_restore_from_the_second_when_the_first_copy_is_gone()
            throws Exception {
        Path nas = dir.resolve("nas");
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool)
                .property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", nas.toString());
        String segment;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('named repositories')");
            segment = switchWal();
            awaitShipped(ws, segment);
        }
        assertThat(nas.resolve("postgres/wal").resolve(segment + ".zst")).exists();
        assertThat(nas.resolve("postgres/wal").resolve(segment + ".zst.sha256")).exists();
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(entry.get("repositories").toString()).isEqualTo("[\"local\",\"nas\"]");

        ThrowawayPostgres.deleteTree(ws.repository().resolve("postgres").resolve(entry.get("id").asText()));
        Path latest = dir.resolve("from-nas");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                latest.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(latest);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored, "note = 'named repositories'")).isEqualTo(1);
        } finally {
            restored.stop();
        }
    }

    @Test
    void should_refuse_a_differential_backup_until_postgresql_has_them() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        Workspace.Result result = ws.run("backup", "postgres", "--type", "diff");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).startsWith("error: job 'postgres' (postgresql physical) supports [full] backups, not 'diff'");
    }

    /** A physical backup through the service's run-backup route, as the command line starts one; it must succeed. */
    private static void backupNow(StowageService service) {
        WalTesting.backupNow(service, "postgres");
    }

    /** Closes the current WAL segment (so the server archives it) and returns its name. */
    private static String switchWal() throws Exception {
        return WalTesting.switchWal(cluster);
    }

    /** Waits until {@code segment} is in the repository and nothing but {@code ignored} waits in the spool. */
    private static void awaitShippedIgnoring(Workspace ws, String segment, Path ignored) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while ((!walKeys(ws).contains(segment + ".zst") || spooled() > 1) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(walKeys(ws)).contains(segment + ".zst");
        assertThat(ignored).exists();
    }

    /** Waits until {@code segment} is in the repository and nothing waits in the spool. */
    private static void awaitShipped(Workspace ws, String segment) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while ((!walKeys(ws).contains(segment + ".zst") || spooled() > 0) && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(walKeys(ws)).contains(segment + ".zst");
        assertThat(spooled()).isZero();
    }

    private static Instant serverNow() throws Exception {
        return WalTesting.serverNow(cluster);
    }

    /** The rows of every user table in the source cluster's postgres database. */
    private static long allRows() throws Exception {
        try (var c = cluster.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c"
                     + " FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint) FROM pg_tables"
                     + " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The rows of t that {@code where} selects, each as {@code id note at}, for a failure's message. */
    private static List<String> rows(ThrowawayPostgres server, String where) throws Exception {
        List<String> rows = new java.util.ArrayList<>();
        try (var c = server.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT id, note, at, xmin FROM t WHERE " + where + " ORDER BY id")) {
            while (rs.next()) {
                rows.add(rs.getLong(1) + " '" + rs.getString(2) + "' " + rs.getString(3) + " xmin " + rs.getString(4));
            }
        }
        return rows;
    }

    private static long count(ThrowawayPostgres server, String where) throws Exception {
        return server.number("postgres", "SELECT count(*) FROM t WHERE " + where);
    }

    @Test
    void should_restore_to_the_requested_time_and_to_the_latest_archived_wal() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        Instant target;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'before ' || g FROM generate_series(1, 100) g");
            Thread.sleep(1100);
            target = serverNow();
            Thread.sleep(1100);
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'after ' || g FROM generate_series(1, 50) g");
            awaitShipped(ws, switchWal());
        }
        Workspace.Result check = ws.run("check");
        assertThat(check.out()).as(check + " wal: " + walKeys(ws)).contains("ok    wal postgres in local: no gap since");

        Path pitr = dir.resolve("pitr");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", target.toString(), "--target-datadir",
                pitr.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(java.nio.file.Files.getPosixFilePermissions(pitr))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(pitr);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored, "note LIKE 'before %'")).isEqualTo(count(cluster, "note LIKE 'before %'"));
            assertThat(count(restored, "note LIKE 'after %'")).isZero();
            assertThat(count(restored, "at >= '" + target + "'")).as("rows at or after the target: %s, last WAL "
                    + "shipped: %s", rows(restored, "at >= '" + target + "'"), walKeys(ws)).isZero();
        } finally {
            restored.stop();
        }

        Path latest = dir.resolve("latest");
        Workspace.Result all = ws.run("restore", "postgres", "--time", "latest", "--target-datadir", latest.toString());
        assertThat(all.status()).as(all.toString()).isZero();
        ThrowawayPostgres everything = ThrowawayPostgres.startExisting(latest);
        try {
            everything.awaitRecoveryEnd();
            assertThat(count(everything, "true")).isEqualTo(count(cluster, "true"));
        } finally {
            everything.stop();
        }

        Workspace.Result notEmpty = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                latest.toString());
        assertThat(notEmpty.status()).isEqualTo(1);
        assertThat(notEmpty.err()).startsWith("error: target directory " + latest + " is not empty");
        Workspace.Result tooEarly = ws.run("restore", "postgres", "--time", "2001-01-01 00:00:00+00",
                "--target-datadir", dir.resolve("early").toString());
        assertThat(tooEarly.status()).isEqualTo(1);
        assertThat(tooEarly.err()).startsWith("error: target time 2001-01-01T00:00:00Z is before the oldest backup");
        Workspace.Result future = ws.run("restore", "postgres", "--time", "2999-01-01 00:00:00", "--target-datadir",
                dir.resolve("future").toString());
        assertThat(future.status()).isEqualTo(2);
        assertThat(future.err()).startsWith("error: target time 2999-01-01T00:00:00Z is in the future");
    }

    /**
     * The source's recovery commands come back with its configuration, but they act on the source's archive (its
     * pg_archivecleanup would delete WAL the source still needs): the restored copy never runs them.
     */
    @Test
    void should_never_run_the_sources_recovery_commands_in_the_restored_copy() throws Exception {
        Path marks = ThrowawayPostgres.serverWritableDirectory(dir.resolve("marks"));
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        try {
            cluster.execute("postgres", "ALTER SYSTEM SET recovery_end_command = 'touch " + marks + "/recovery_end'",
                    "ALTER SYSTEM SET archive_cleanup_command = 'touch " + marks + "/archive_cleanup'");
            try (StowageService service = ws.service()) {
                backupNow(service);
                cluster.execute("postgres", "ALTER SYSTEM RESET recovery_end_command",
                        "ALTER SYSTEM RESET archive_cleanup_command");
                cluster.execute("postgres", "INSERT INTO t (note) VALUES ('beside the recovery commands')");
                awaitShipped(ws, switchWal());
            }
        } finally {
            cluster.execute("postgres", "ALTER SYSTEM RESET recovery_end_command",
                    "ALTER SYSTEM RESET archive_cleanup_command");
        }
        Path copy = dir.resolve("copy");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                copy.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(copy);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored, "note = 'beside the recovery commands'")).isEqualTo(1);
        } finally {
            restored.stop();
        }
        assertThat(marks.resolve("recovery_end")).doesNotExist();
        assertThat(marks.resolve("archive_cleanup")).doesNotExist();
    }

    @Test
    void should_restore_what_committed_before_the_target_time_and_not_a_commit_exactly_at_it() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        Instant before;
        Instant at;
        Instant after;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('committed before the target')");
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('committed at the target')");
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('committed after the target')");
            before = WalTesting.commitTime(cluster, "t", "note = 'committed before the target'");
            at = WalTesting.commitTime(cluster, "t", "note = 'committed at the target'");
            after = WalTesting.commitTime(cluster, "t", "note = 'committed after the target'");
            awaitShipped(ws, switchWal());
        }
        assertThat(before).isBefore(at);
        assertThat(at).isBefore(after);

        // The target is the instant the second transaction committed: it is not restored, the one before it is.
        assertThat(restoredNotes(ws, at.toString(), "exactly")).contains("committed before the target")
                .doesNotContain("committed at the target", "committed after the target");
        // A microsecond later, it is.
        assertThat(restoredNotes(ws, at.plusNanos(1000).toString(), "a-microsecond-later"))
                .contains("committed before the target", "committed at the target")
                .doesNotContain("committed after the target");
        // A target finer than PostgreSQL's microseconds counts as the next microsecond: still after the commit.
        assertThat(PhysicalRestore.Target.parse(at.plusNanos(1).toString()).time()).isEqualTo(at.plusNanos(1000));
    }

    /** Restores the newest backup to {@code time} into {@code name}, starts it, and returns the notes of table t. */
    private List<String> restoredNotes(Workspace ws, String time, String name) throws Exception {
        Path target = dir.resolve(name);
        Workspace.Result restore = ws.run("restore", "postgres", "--time", time, "--target-datadir", target.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(target);
        try {
            restored.awaitRecoveryEnd();
            List<String> notes = new java.util.ArrayList<>();
            try (var c = restored.connect("postgres"); var s = c.createStatement();
                 var rs = s.executeQuery("SELECT note FROM t WHERE note LIKE 'committed %'")) {
                while (rs.next()) {
                    notes.add(rs.getString(1));
                }
            }
            return notes;
        } finally {
            restored.stop();
        }
    }

    @Test
    void should_keep_shipping_wal_while_commands_run_beside_the_service_in_one_jvm() throws Exception {
        // Commands started in the service's JVM (as tests start them) each boot and stop a Camel context of their
        // own: none of that may stop or slow the service's WAL route, or change how the service logs.
        Path scratchRoot = leftover = Files.createTempDirectory("stowage-scratch-beside-");
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool)
                .property("stowage.scratch.path", scratchRoot.toString());
        try (StowageService service = ws.service()) {
            backupNow(service);
            awaitShipped(ws, switchWal());
            ch.qos.logback.classic.Level serviceLogging = ((ch.qos.logback.classic.LoggerContext)
                    org.slf4j.LoggerFactory.getILoggerFactory()).getLogger("io.stowage").getLevel();
            List<List<String>> commands = List.of(List.of("check"), List.of("backup", "postgres"),
                    List.of("restore", "postgres", "--time", "latest", "--target-datadir", dir.resolve("r").toString()),
                    List.of("restore", "postgres", "--table", "public.t", "--target-database", "t_beside"));
            for (List<String> command : commands) {
                Workspace.Result result = ws.run(command.toArray(String[]::new));
                assertThat(result.status()).as(result.toString()).isZero();
                cluster.execute("postgres", "INSERT INTO t (note) VALUES ('beside " + command.get(0) + "')");
                awaitShipped(ws, switchWal());
                assertThat(((ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory())
                        .getLogger("io.stowage").getLevel()).as("the service's logging after " + command)
                        .isEqualTo(serviceLogging);
            }
        } finally {
            cluster.dropDatabase("t_beside");
        }
    }

    @Test
    void should_warn_that_a_physical_backup_restores_unlogged_tables_empty() throws Exception {
        cluster.execute("postgres", "DROP DATABASE IF EXISTS unlogged_demo", "CREATE DATABASE unlogged_demo");
        try {
            cluster.execute("unlogged_demo", "CREATE UNLOGGED TABLE sessions (id int)",
                    "INSERT INTO sessions SELECT generate_series(1, 3)");
            Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
            String warning = "job postgres: 1 unlogged table has no rows in a physical backup (PostgreSQL writes no WAL"
                    + " for them): unlogged_demo.public.sessions; HINT: ALTER TABLE ... SET LOGGED";
            Workspace.Result check = ws.run("check", "postgres");
            assertThat(check.out()).as(check.toString()).contains("WARN  " + warning);
            String id;
            try (StowageService service = ws.service()) {
                Workspace.Result backup = ws.run("backup", "postgres");
                assertThat(backup.status()).as(backup.toString()).isZero();
                assertThat(backup.err()).contains("warning: " + warning);
                id = backup.lastLine();
                awaitShipped(ws, switchWal());
            }
            // What the warning says: the table is there, without its rows.
            Path restoredDir = dir.resolve("restored");
            Workspace.Result restore = ws.run("restore", "postgres", "--backup", id, "--target-datadir",
                    restoredDir.toString());
            assertThat(restore.status()).as(restore.toString()).isZero();
            ThrowawayPostgres restored = ThrowawayPostgres.startExisting(restoredDir);
            try {
                restored.awaitRecoveryEnd();
                assertThat(restored.number("unlogged_demo", "SELECT count(*) FROM sessions")).isZero();
            } finally {
                restored.stop();
            }
            assertThat(cluster.number("unlogged_demo", "SELECT count(*) FROM sessions")).isEqualTo(3);
        } finally {
            cluster.execute("postgres", "DROP DATABASE IF EXISTS unlogged_demo WITH (FORCE)");
        }
    }

    @Test
    void should_archive_and_restore_with_a_passphrase() throws Exception {
        Path passphrase = dir.resolve("passphrase.txt");
        Files.writeString(passphrase, "physical passphrase\n");
        // A low work factor keeps the per-file key derivations quick; the format is the same at any factor.
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool)
                .property("stowage.encryption.passphrase-file", passphrase.toString())
                .property("stowage.encryption.passphrase-work-factor", "10");
        String id;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'sealed ' || g FROM generate_series(1, 30) g");
            String segment = switchWal();
            long deadline = System.currentTimeMillis() + 60_000;
            while ((!walKeys(ws).contains(segment + ".zst.age") || spooled() > 0)
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(walKeys(ws)).contains(segment + ".zst.age");
            id = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0).get("id").asText();
        }
        assertThat(walKeys(ws)).isNotEmpty().allMatch(name -> name.endsWith(".age") || name.endsWith(".age.sha256"));
        Path backup = ws.repository().resolve("postgres").resolve(id);
        assertThat(backup.resolve("base.tar.zst.age")).exists();
        assertThat(ManifestCodec.JSON.readTree(backup.resolve("manifest.json").toFile()).get("encryption")
                .get("passphrase").asBoolean()).isTrue();

        Path latest = dir.resolve("sealed");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                latest.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(latest);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored, "note LIKE 'sealed %'")).isEqualTo(count(cluster, "note LIKE 'sealed %'"));
        } finally {
            restored.stop();
        }
    }

    @Test
    void should_restore_between_two_backups_and_fetch_only_a_backups_own_wal_for_its_own_point() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        Instant target;
        String first;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'bounded ' || g FROM generate_series(1, 10) g");
            Thread.sleep(1100);
            target = serverNow();
            Thread.sleep(1100);
            backupNow(service);
            for (int i = 0; i < 4; i++) {
                cluster.execute("postgres", "INSERT INTO t (note) VALUES ('later')");
                switchWal();
            }
            awaitShipped(ws, switchWal());
            first = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0).get("id").asText();
        }
        // A target between two backups: the older one, and the WAL to the first commit at or after the target.
        Path pitr = dir.resolve("between");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", target.toString(), "--target-datadir",
                pitr.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("restored backup " + first);
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(pitr);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored, "note LIKE 'bounded %'")).isEqualTo(count(cluster, "note LIKE 'bounded %'"));
            assertThat(count(restored, "note = 'later'")).isZero();
        } finally {
            restored.stop();
        }
        // A backup's own point needs only the WAL from its start to its stop segment, not the archive after it.
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        long own = WalNames.isSegment(entry.get("walStart").asText()) ? segmentsBetween(entry.get("walStart").asText(),
                entry.get("walStop").asText()) : -1;
        Workspace.Result backupPoint = ws.run("restore", "postgres", "--backup", first, "--target-datadir",
                dir.resolve("own").toString());
        assertThat(backupPoint.status()).as(backupPoint.toString()).isZero();
        java.util.regex.Matcher fetched = java.util.regex.Pattern.compile("with (\\d+) WAL files")
                .matcher(backupPoint.out());
        assertThat(fetched.find()).as(backupPoint.out()).isTrue();
        long histories = walKeys(ws).stream().filter(n -> n.matches("[0-9A-F]{8}\\.history\\.zst")).count();
        assertThat(Long.parseLong(fetched.group(1))).isEqualTo(own + histories);
        ThrowawayPostgres atBackup = ThrowawayPostgres.startExisting(dir.resolve("own"));
        try {
            atBackup.awaitRecoveryEnd();
            assertThat(count(atBackup, "note LIKE 'bounded %'")).isZero();
        } finally {
            atBackup.stop();
        }
    }

    private static long segmentsBetween(String start, String stop) {
        long n = 1;
        for (String s = start; !s.equals(stop); s = WalNames.next(s, 16L * 1024 * 1024)) {
            n++;
        }
        return n;
    }

    @Test
    void should_name_the_missing_segment_of_a_wal_gap() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        String missing;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('one')");
            missing = switchWal();
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('two')");
            awaitShipped(ws, switchWal());
        }
        Files.delete(ws.repository().resolve("postgres/wal").resolve(missing + ".zst"));
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).isEqualTo(1);
        assertThat(check.out()).contains("FAIL  wal postgres in local: gap at segment " + missing);
        // Recovery to the end of the archive stops at the gap: the restore says so, naming the segment.
        Workspace.Result latest = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                dir.resolve("gap").toString());
        assertThat(latest.status()).as(latest.toString()).isZero();
        assertThat(latest.err()).contains("warning: the WAL archive has a gap: no repository copy of segment "
                + missing + " (on any timeline); recovery cannot replay past it");
        // A named backup cannot be recovered to a time before it finished.
        JsonNode backup = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        Path early = dir.resolve("early");
        Workspace.Result before = ws.run("restore", "postgres", "--backup", backup.get("id").asText(), "--time",
                Instant.parse(backup.get("started").asText()).toString(), "--target-datadir", early.toString());
        assertThat(before.status()).as(before.toString()).isEqualTo(2);
        assertThat(before.err()).startsWith("error: target time " + Instant.parse(backup.get("started").asText())
                + " is not after backup " + backup.get("id").asText() + " finished");
        assertThat(early).doesNotExist();
    }

    @Test
    void should_keep_a_checksum_beside_every_wal_object_and_refuse_a_corrupt_one_at_restore() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        String corrupt;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('checksummed')");
            corrupt = switchWal();
            awaitShipped(ws, corrupt);
        }
        Path walDir = ws.repository().resolve("postgres/wal");
        // Every object has a sha256sum line beside it, which the standard tool checks.
        for (String name : walKeys(ws)) {
            if (!name.endsWith(".sha256")) {
                assertThat(walKeys(ws)).contains(name + ".sha256");
            }
        }
        Process sha256sum = new ProcessBuilder("sha256sum", "-c", corrupt + ".zst.sha256").directory(walDir.toFile())
                .redirectErrorStream(true).start();
        String checked = new String(sha256sum.getInputStream().readAllBytes());
        assertThat(sha256sum.waitFor()).as(checked).isZero();
        assertThat(checked).contains(corrupt + ".zst: OK");

        // One flipped byte in a stored WAL object: the restore names it and lays nothing out as recovered.
        Path object = walDir.resolve(corrupt + ".zst");
        byte[] bytes = Files.readAllBytes(object);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(object, bytes);
        Path target = dir.resolve("corrupt");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                target.toString());
        assertThat(restore.status()).as(restore.toString()).isEqualTo(1);
        assertThat(restore.err()).startsWith("error: ").contains("WAL object 'postgres/wal/" + corrupt + ".zst'")
                .contains("is corrupt");
    }

    @Test
    void should_verify_a_physical_backup_on_a_scratch_server_and_refuse_a_corrupt_one() throws Exception {
        // In the temporary directory, where the default scratch root is.
        Path scratchRoot = leftover = Files.createTempDirectory("stowage-scratch-verify-");
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool)
                .property("stowage.scratch.path", scratchRoot.toString());
        try (var c = cluster.connect("postgres"); var s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS shop");
            s.execute("CREATE DATABASE shop");
        }
        cluster.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY)",
                "INSERT INTO orders SELECT generate_series(1, 37)");
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'proven ' || g FROM generate_series(1, 20) g");
            awaitShipped(ws, switchWal());
        }
        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isZero();
        assertThat(verify.out()).startsWith("verified backup ").contains("restored in").contains("rows read");
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(entry.get("verified").isNull()).isFalse();
        Path backup = ws.repository().resolve("postgres").resolve(entry.get("id").asText());
        try (Stream<Path> files = Files.list(backup)) {
            Path record = files.filter(p -> p.getFileName().toString().startsWith("verified-")).findFirst().orElseThrow();
            JsonNode json = ManifestCodec.JSON.readTree(record.toFile());
            assertThat(json.get("rows").asLong()).as("every row of every database, to the latest WAL")
                    .isEqualTo(allRows() + 37);
            assertThat(json.get("probes").findValuesAsText("name")).contains("read", "shop:read", "shop:indexes-valid");
            assertThat(json.get("rtoMet").asBoolean()).isTrue();
        }
        assertThat(scratchRoot.resolve("postgres")).as("the scratch server is removed").doesNotExist();
        assertThat(scratchRoot).as("nothing is left in the temporary directory, not even a lock file").doesNotExist();

        // A flipped byte in the base backup: verify names the object and still leaves nothing behind.
        Path base = backup.resolve("base.tar.zst");
        byte[] bytes = Files.readAllBytes(base);
        bytes[bytes.length / 3] ^= 0x01;
        Files.write(base, bytes);
        Workspace.Result corrupt = ws.run("verify", "postgres");
        assertThat(corrupt.status()).isEqualTo(1);
        assertThat(corrupt.err()).startsWith("error: ").contains("base.tar.zst").contains("corrupt");
        assertThat(scratchRoot).doesNotExist();
    }

    @Test
    void should_recover_across_a_timeline_switch_and_ship_wal_that_waited_while_s3_was_down() throws Exception {
        String bucket = io.stowage.testing.S3TestServer.get().createBucket();
        int s3Port = java.net.URI.create(io.stowage.testing.S3TestServer.get().endpoint()).getPort();
        try (io.stowage.testing.FlakyTcpProxy s3 = new io.stowage.testing.FlakyTcpProxy(s3Port, Long.MAX_VALUE)) {
            Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool).s3(bucket, "", s3.endpoint());
            Instant split;
            String waiting;
            try (StowageService service = ws.service()) {
                backupNow(service);
                cluster.execute("postgres", "INSERT INTO t (note) VALUES ('timeline 1')");
                Thread.sleep(1100);
                split = serverNow();
                Thread.sleep(1100);
                cluster.execute("postgres", "INSERT INTO t (note) VALUES ('lost on timeline 1')");
                awaitShipped(ws, switchWal());

                // S3 goes away: WAL keeps arriving and waits in the spool; nothing is deleted.
                s3.down(true);
                cluster.execute("postgres", "INSERT INTO t (note) VALUES ('while s3 was down')");
                waiting = switchWal();
                Thread.sleep(2000);
                // The segment may already be in the local repository; it stays in the spool until S3 has it too.
                assertThat(spool.resolve(waiting)).exists();
                // S3 is back: the spool drains, in order.
                s3.down(false);
                awaitShipped(ws, waiting);
            }
            var inS3 = io.stowage.testing.S3TestServer.get().client().listObjectsV2(r -> r.bucket(bucket)
                    .prefix("postgres/wal/")).contents().stream().map(o -> o.key()).toList();
            assertThat(inS3).contains("postgres/wal/" + waiting + ".zst");

            // Restore to the split, promote onto timeline 2, write there, archive into the same spool.
            Path promoted = dir.resolve("timeline2");
            assertThat(ws.run("restore", "postgres", "--time", split.toString(), "--target-datadir",
                    promoted.toString()).status()).isZero();
            Files.writeString(promoted.resolve("postgresql.auto.conf"), "archive_command = '"
                    + Path.of("bin/stowage-archive-wal").toAbsolutePath() + " " + spool + " %p %f'\n",
                    java.nio.file.StandardOpenOption.APPEND);
            ThrowawayPostgres timeline2 = ThrowawayPostgres.startExisting(promoted, "archive_mode=on");
            Instant afterSwitch;
            String last;
            try {
                timeline2.awaitRecoveryEnd();
                timeline2.execute("postgres", "INSERT INTO t (note) VALUES ('timeline 2')");
                Thread.sleep(1100);
                afterSwitch = Instant.now();
                Thread.sleep(1100);
                // Recovery to a time needs a commit at or after it in the archive, to know the target was reached.
                timeline2.execute("postgres", "INSERT INTO t (note) VALUES ('after the target on timeline 2')");
                try (var c = timeline2.connect("postgres"); var st = c.createStatement();
                     var rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    last = rs.getString(1);
                }
                assertThat(last).startsWith("00000002");
                long deadline = System.currentTimeMillis() + 30_000;
                while (!Files.exists(spool.resolve(last)) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(spool.resolve(last)).as("archived by the timeline 2 server").exists();
            } finally {
                timeline2.stop();
            }
            // The service, started again, ships what waited: timeline 2's history file and segments.
            try (StowageService service = ws.service()) {
                awaitShipped(ws, last);
            }
            assertThat(walKeys(ws)).contains("00000002.history.zst");

            // A second point-in-time restore, from the timeline 1 backup across the switch to timeline 2.
            Path again = dir.resolve("again");
            Workspace.Result restore = ws.run("restore", "postgres", "--time", afterSwitch.toString(),
                    "--target-datadir", again.toString());
            assertThat(restore.status()).as(restore.toString()).isZero();
            ThrowawayPostgres second = ThrowawayPostgres.startExisting(again);
            try {
                second.awaitRecoveryEnd();
                assertThat(count(second, "note = 'timeline 1'")).isEqualTo(1);
                assertThat(count(second, "note = 'timeline 2'")).isEqualTo(1);
                assertThat(count(second, "note = 'lost on timeline 1'")).isZero();
                assertThat(count(second, "note = 'after the target on timeline 2'")).isZero();
            } finally {
                second.stop();
            }

            // With the local copies gone, the same restore reads the base backup and the WAL from S3.
            JsonNode backup = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
            io.stowage.testing.ThrowawayPostgres.deleteTree(ws.repository().resolve("postgres"));
            Path fromS3 = dir.resolve("from-s3");
            Workspace.Result s3Restore = ws.run("restore", "postgres", "--time", afterSwitch.toString(),
                    "--target-datadir", fromS3.toString());
            assertThat(s3Restore.status()).as(s3Restore.toString()).isZero();
            assertThat(s3Restore.out()).contains(backup.get("id").asText());
            ThrowawayPostgres third = ThrowawayPostgres.startExisting(fromS3);
            try {
                third.awaitRecoveryEnd();
                assertThat(count(third, "note = 'timeline 2'")).isEqualTo(1);
            } finally {
                third.stop();
            }
        }
    }

    @Test
    void should_start_the_restored_server_and_return_once_recovery_has_finished() throws Exception {
        // PostgreSQL will not run as root: when the tests run as root, this restore runs as 'postgres', as an
        // operator runs it as the server's user.
        Path home = ThrowawayPostgres.serverWritableDirectory(dir.resolve("home"));
        Workspace ws = new Workspace(home).physicalJob("postgres", cluster, spool);
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('started')");
            awaitShipped(ws, switchWal());
        }
        Path config = ws.writeConfiguration();
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            new ProcessBuilder("chown", "-R", "postgres", home.toString()).start().waitFor();
        }
        int port = ThrowawayPostgres.freePort();
        Path target = home.resolve("started");
        ProcessBuilder builder = io.stowage.testing.StowageProcess.builder(home, Map.of(), "--config", config.toString(),
                "restore", "postgres", "--time", "latest", "--target-datadir", target.toString(), "--start",
                "--port", Integer.toString(port));
        if (root) {
            // The 'postgres' user cannot read root's Maven repository: give it a readable copy of the class path.
            Path classPath = Files.createDirectories(home.resolve("classpath"));
            List<String> entries = new java.util.ArrayList<>();
            int i = 0;
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path from = Path.of(entry);
                Path to = classPath.resolve((i++) + "-" + from.getFileName());
                if (Files.isDirectory(from)) {
                    new ProcessBuilder("cp", "-r", from.toString(), to.toString()).start().waitFor();
                } else if (Files.exists(from)) {
                    Files.copy(from, to);
                }
                entries.add(to.toString());
            }
            new ProcessBuilder("chmod", "-R", "a+rX", classPath.toString()).start().waitFor();
            List<String> command = new java.util.ArrayList<>(builder.command());
            command.set(command.indexOf("-cp") + 1, String.join(java.io.File.pathSeparator, entries));
            List<String> asPostgres = new java.util.ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
            asPostgres.addAll(command);
            builder.command(asPostgres);
        }
        Process restore = builder.redirectErrorStream(true).start();
        String output = new String(restore.getInputStream().readAllBytes());
        assertThat(restore.waitFor()).as(output).isZero();
        assertThat(output).contains("started on port " + port + ", recovery finished");
        ThrowawayPostgres running = ThrowawayPostgres.attach(target, port);
        try {
            assertThat(count(running, "note = 'started'")).isEqualTo(1);
            try (var c = running.connect("postgres"); var s = c.createStatement();
                 var rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                assertThat(rs.getBoolean(1)).isFalse();
            }
        } finally {
            running.stop();
            ThrowawayPostgres.deleteTree(home);
        }
    }

    /**
     * PostgreSQL runs restore_command through a shell, and pg_ctl starts the server through one: a data directory
     * whose name a shell would read never reaches either. The recovery settings name the WAL relative to the data
     * directory (so the restored directory may also be moved before it is started), and --start refuses such a name
     * before anything is written.
     */
    @Test
    void should_never_hand_the_data_directory_name_to_a_shell() throws Exception {
        Path home = ThrowawayPostgres.serverWritableDirectory(dir.resolve("home"));
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('hostile name')");
            awaitShipped(ws, switchWal());
        }
        Path hostile = home.resolve("it's \"$(touch pwned)\" `touch pwned`");
        try {
            Workspace.Result started = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                    hostile.toString(), "--start", "--port", Integer.toString(ThrowawayPostgres.freePort()));
            assertThat(started.status()).as(started.toString()).isEqualTo(2);
            assertThat(started.err()).contains("--start").contains("shell");
            assertThat(hostile).doesNotExist();
            // Through a plain-named link to such a directory: pg_ctl would be given the directory the link names.
            Path named = Files.createDirectories(home.resolve("$(touch pwned)"));
            Path plain = Files.createSymbolicLink(home.resolve("plain"), named);
            Workspace.Result linked = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                    plain.toString(), "--start", "--port", Integer.toString(ThrowawayPostgres.freePort()));
            assertThat(linked.status()).as(linked.toString()).isEqualTo(2);
            assertThat(linked.err()).contains("--start").contains("shell");
            assertThat(named).isEmptyDirectory();
            Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                    hostile.toString());
            assertThat(restore.status()).as(restore.toString()).isZero();
            String settings = Files.readString(hostile.resolve("postgresql.auto.conf"));
            assertThat(settings).contains("restore_command = 'cp \"stowage-wal/%f\" \"%p\"'").doesNotContain("pwned");
            Path moved = home.resolve("moved");
            Files.move(hostile, moved);
            ThrowawayPostgres restored = ThrowawayPostgres.startExisting(moved);
            try {
                restored.awaitRecoveryEnd();
                assertThat(count(restored, "note = 'hostile name'")).isEqualTo(1);
            } finally {
                restored.stop();
            }
            assertThat(moved.resolve("pwned")).doesNotExist();
        } finally {
            ThrowawayPostgres.deleteTree(home);
        }
    }

    @Test
    void should_start_the_restored_server_as_the_server_user_when_run_as_root() throws Exception {
        // Run in this JVM, as the tests' own user: as root, the directory goes to 'postgres', who runs the server.
        Path home = ThrowawayPostgres.serverWritableDirectory(dir.resolve("home"));
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('started by root')");
            awaitShipped(ws, switchWal());
        }
        int port = ThrowawayPostgres.freePort();
        Path target = home.resolve("started");
        try {
            Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                    target.toString(), "--start", "--port", Integer.toString(port));
            assertThat(restore.status()).as(restore.toString()).isZero();
            assertThat(restore.out()).contains("started on port " + port + ", recovery finished");
            String owner = Files.getOwner(target.resolve("PG_VERSION")).getName();
            assertThat(owner).isEqualTo("root".equals(System.getProperty("user.name")) ? "postgres"
                    : System.getProperty("user.name"));
            ThrowawayPostgres running = ThrowawayPostgres.attach(target, port);
            try {
                assertThat(count(running, "note = 'started by root'")).isEqualTo(1);
            } finally {
                running.stop();
            }
        } finally {
            ThrowawayPostgres.deleteTree(home);
        }
    }

    @Test
    void should_say_so_when_the_archive_ends_before_the_target_time() throws Exception {
        Path home = ThrowawayPostgres.serverWritableDirectory(dir.resolve("home"));
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        Instant afterEverything;
        try (StowageService service = ws.service()) {
            backupNow(service);
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('last archived')");
            awaitShipped(ws, switchWal());
            Thread.sleep(1100);
            afterEverything = serverNow();
        }
        try {
            Workspace.Result restore = ws.run("restore", "postgres", "--time", afterEverything.toString(),
                    "--target-datadir", home.resolve("late").toString(), "--start", "--port",
                    Integer.toString(ThrowawayPostgres.freePort()));
            assertThat(restore.status()).as(restore.toString()).isEqualTo(1);
            assertThat(restore.err()).startsWith("error: PostgreSQL on " + home.resolve("late")
                    + " stopped before recovery finished: FATAL:  recovery ended before configured recovery target was"
                    + " reached; HINT: the archived WAL ends before the target time");
            assertThat(home.resolve("late/postmaster.pid")).doesNotExist();
        } finally {
            ThrowawayPostgres.deleteTree(home);
        }
    }

    @Test
    void should_lose_nothing_when_the_service_stops_and_restarts_under_write_load() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        cluster.execute("postgres", "CREATE TABLE IF NOT EXISTS load (id bigserial PRIMARY KEY, at timestamptz"
                + " DEFAULT clock_timestamp())");
        java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        Thread writer = new Thread(() -> {
            try (var c = cluster.connect("postgres"); var s = c.createStatement()) {
                for (int i = 0; writing.get(); i++) {
                    s.execute("INSERT INTO load DEFAULT VALUES");
                    written.incrementAndGet();
                    if (i % 200 == 0) {
                        s.execute("SELECT pg_switch_wal()");
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        StowageService service = ws.service();
        try {
            backupNow(service);
            writer.start();
            Thread.sleep(1500);
        } finally {
            service.close(); // stopped while WAL keeps coming
        }
        Thread.sleep(1500);
        assertThat(spooled()).as("WAL waits in the spool while the service is down").isPositive();
        try (StowageService restarted = ws.service()) {
            Thread.sleep(1000);
            writing.set(false);
            writer.join();
            awaitShipped(ws, switchWal());
        }
        long rows = count(cluster, "true");
        Path latest = dir.resolve("under-load");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir", latest.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(latest);
        try {
            restored.awaitRecoveryEnd();
            try (var c = restored.connect("postgres"); var s = c.createStatement();
                 var rs = s.executeQuery("SELECT count(*) FROM load")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(written.get()).isPositive();
            }
            assertThat(count(restored, "true")).isEqualTo(rows);
        } finally {
            restored.stop();
        }
    }

    @Test
    void should_never_lose_or_half_store_wal_when_the_service_is_killed_while_shipping() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        try (StowageService service = ws.service()) {
            backupNow(service);
            awaitShipped(ws, switchWal());
        }
        // A burst of WAL waits in the spool; then a service process is killed (SIGKILL) while it ships it.
        cluster.execute("postgres", "CREATE TABLE IF NOT EXISTS burst (id serial, pad text)");
        String last = null;
        for (int i = 0; i < 6; i++) {
            cluster.execute("postgres", "INSERT INTO burst (pad) SELECT repeat(md5(g::text), 20) FROM generate_series(1, 20000) g");
            last = switchWal();
        }
        long deadline = System.currentTimeMillis() + 30_000;
        while (!Files.exists(spool.resolve(last)) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        long before = spooled();
        Path config = ws.writeConfiguration();
        for (int round = 0; round < 3 && spooled() > 0; round++) {
            Process service = io.stowage.testing.StowageProcess.builder(dir, Map.of(), "--config", config.toString(), "run")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long started = spooled();
            long until = System.currentTimeMillis() + 30_000;
            while (spooled() == started && service.isAlive() && System.currentTimeMillis() < until) {
                Thread.sleep(5);
            }
            Thread.sleep(20L * round);
            service.destroyForcibly();
            assertThat(service.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        assertThat(spooled()).as("the killed services shipped some of the burst").isLessThan(before);
        // Nothing half-written is in the repository: every object there decompresses whole.
        for (String key : walKeys(ws)) {
            if (key.endsWith(".sha256")) {
                continue;
            }
            try (var in = io.stowage.pipeline.Codec.ZSTD.decompress(Files.newInputStream(
                    ws.repository().resolve("postgres/wal").resolve(key)))) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        }
        // A service started again ships the rest and removes what the kills left half-written.
        try (StowageService service = ws.service()) {
            awaitShipped(ws, last);
        }
        try (var files = Files.list(ws.repository().resolve("postgres/wal"))) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
        }
        long rows = count(cluster, "true");
        Path latest = dir.resolve("after-kills");
        assertThat(ws.run("restore", "postgres", "--time", "latest", "--target-datadir", latest.toString()).status())
                .isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(latest);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored, "true")).isEqualTo(rows);
            try (var c = restored.connect("postgres"); var s = c.createStatement();
                 var rs = s.executeQuery("SELECT count(*) FROM burst")) {
                rs.next();
                try (var c2 = cluster.connect("postgres"); var s2 = c2.createStatement();
                     var rs2 = s2.executeQuery("SELECT count(*) FROM burst")) {
                    rs2.next();
                    assertThat(rs.getLong(1)).isEqualTo(rs2.getLong(1));
                }
            }
        } finally {
            restored.stop();
        }
    }
}
