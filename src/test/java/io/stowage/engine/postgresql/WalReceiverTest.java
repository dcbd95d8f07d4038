package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.runtime.StowageService;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAL streamed by the service's pg_receivewal instead of archive_command: on a throwaway cluster that does not
 * archive at all, WAL reaches the repository through a replication slot, survives the service being down (the slot
 * keeps it on the server) and restores to the latest row.
 */
class WalReceiverTest {
    private static ThrowawayPostgres cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void startCluster() {
        cluster = ThrowawayPostgres.startNew(Map.of("wal_level", "replica", "max_wal_senders", "4"));
        cluster.execute("postgres", "CREATE TABLE t (id serial PRIMARY KEY, note text)",
                "INSERT INTO t (note) SELECT 'row ' || g FROM generate_series(1, 1000) g");
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

    private static List<String> partials(Path spool) throws Exception {
        try (Stream<Path> files = Files.list(spool)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".partial")).toList();
        }
    }

    private static String switchWal() throws Exception {
        return WalTesting.switchWal(cluster);
    }

    private static void awaitArchived(Workspace ws, String segment) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (!walKeys(ws).contains(segment + ".zst.sha256") && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(walKeys(ws)).as("segment " + segment + " streamed and shipped").contains(segment + ".zst",
                segment + ".zst.sha256");
    }

    private static long count(ThrowawayPostgres server) throws Exception {
        return server.number("postgres", "SELECT count(*) FROM t");
    }

    private static String slotState() throws Exception {
        try (var c = cluster.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT slot_type || ' ' || active FROM pg_replication_slots"
                     + " WHERE slot_name = 'stowage_postgres'")) {
            return rs.next() ? rs.getString(1) : "missing";
        }
    }

    @Test
    void should_stream_wal_through_a_slot_keep_it_while_the_service_is_down_and_restore_to_the_latest_row()
            throws Exception {
        Path spool = Files.createTempDirectory(dir, "spool");
        // Opened to others, as an operator's mkdir makes it: the receiver closes it (WAL holds every row).
        Files.setPosixFilePermissions(spool, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool, "pg_receivewal")
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
        try (StowageService service = ws.service()) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(spool)))
                    .isEqualTo("rwx------");
            assertThat(ws.run("backup", "postgres").status()).isZero();
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'streamed ' || g FROM generate_series(1, 500) g");
            awaitArchived(ws, switchWal());
            assertThat(slotState()).isEqualTo("physical true");
            cluster.execute("postgres", "INSERT INTO t (note) VALUES ('in the next segment')");
            long deadline = System.currentTimeMillis() + 30_000;
            while (partials(spool).isEmpty() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(partials(spool)).as("the segment being received waits in the spool, not shipped").hasSize(1);
        }
        assertThat(slotState()).as("the slot outlives the service").isEqualTo("physical false");

        // Written while the service is down: the slot keeps this WAL on the server until the receiver is back.
        cluster.execute("postgres", "INSERT INTO t (note) SELECT 'while down ' || g FROM generate_series(1, 300) g");
        String whileDown = switchWal();
        cluster.execute("postgres", "INSERT INTO t (note) VALUES ('last')");
        String last = switchWal();
        long rows = count(cluster);
        try (StowageService service = ws.service()) {
            awaitArchived(ws, whileDown);
            awaitArchived(ws, last);
        }
        Workspace.Result check = ws.run("check");
        assertThat(check.out()).contains("ok    wal postgres in local: no gap since")
                .contains("WARN  wal receiver postgres (slot stowage_postgres): not streaming (is the service running?)");

        Path latest = dir.resolve("latest");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                latest.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(latest);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored)).isEqualTo(rows);
        } finally {
            restored.stop();
        }
    }

    @Test
    void should_keep_the_segment_being_received_in_the_repository_and_restore_its_rows() throws Exception {
        Path spool = Files.createTempDirectory(dir, "spool");
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool, "pg_receivewal")
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
        String segment;
        long rows;
        try (StowageService service = ws.service()) {
            assertThat(ws.run("backup", "postgres").status()).isZero();
            awaitArchived(ws, switchWal());
            // Rows committed into a segment that is not finished: no switch follows them.
            cluster.execute("postgres", "INSERT INTO t (note) SELECT 'unfinished ' || g FROM generate_series(1, 40) g");
            rows = count(cluster);
            try (var c = cluster.connect("postgres"); var st = c.createStatement();
                 var rs = st.executeQuery("SELECT pg_walfile_name(pg_current_wal_lsn())")) {
                rs.next();
                segment = rs.getString(1);
            }
            Path partial = ws.repository().resolve("postgres/wal-partial/" + segment + ".partial.zst");
            long committed = System.currentTimeMillis();
            long deadline = committed + 30_000;
            while ((!Files.exists(partial) || Files.getLastModifiedTime(partial).toMillis() < committed + 1500)
                    && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            assertThat(partial).as("the segment still being received is copied to the repository").exists();
            assertThat(walKeys(ws)).doesNotContain(segment + ".zst");
        }
        // The server is "lost" here: only the repository is left, and it has the unfinished segment's rows.
        Path latest = dir.resolve("from-partial");
        Workspace.Result restore = ws.run("restore", "postgres", "--time", "latest", "--target-datadir",
                latest.toString());
        assertThat(restore.status()).as(restore.toString()).isZero();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(latest);
        try {
            restored.awaitRecoveryEnd();
            assertThat(count(restored)).isEqualTo(rows);
        } finally {
            restored.stop();
        }
        // Once the segment is complete, its partial copy goes.
        try (StowageService service = ws.service()) {
            assertThat(switchWal()).isEqualTo(segment);
            awaitArchived(ws, segment);
            long deadline = System.currentTimeMillis() + 30_000;
            Path partial = ws.repository().resolve("postgres/wal-partial/" + segment + ".partial.zst");
            while (Files.exists(partial) && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            assertThat(partial).doesNotExist();
        }
        assertThat(ws.run("check").out()).contains("ok    wal postgres in local: no gap since");
    }

    @Test
    void should_refuse_an_unknown_receiver_with_a_configuration_error() throws Exception {
        Path spool = Files.createTempDirectory(dir, "spool");
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool, "rsync");
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).isEqualTo(2);
        assertThat(check.err()).startsWith("error: WAL route of job 'postgres' has receiver 'rsync'");
    }
}
