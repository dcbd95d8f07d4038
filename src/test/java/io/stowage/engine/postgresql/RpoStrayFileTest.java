package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.runtime.ManagementServer;
import io.stowage.runtime.StowageService;
import io.stowage.testing.ManagementClient;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL route ships only log files and leaves anything else in the spool alone (the segment pg_receivewal is still
 * writing, <segment>.partial, which on a quiet server is not modified for hours; an operator's note). The lag and the
 * RPO gauges do not count such a file as WAL waiting, so they do not report hours of exposure (nor fire the critical
 * StowageArchiveLagAboveObjective) while no log file waits. After a start, the RPO counts from the start until a
 * file is shipped, never 0.
 */
class RpoStrayFileTest {
    @TempDir
    Path dir;

    private StowageService service;

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    private double metric(String series) throws Exception {
        String text = ManagementClient.get(ManagementServer.port(service.runtime().context()), "/observe/metrics");
        return ManagementClient.sample(text, series).orElseThrow(() -> new AssertionError(series
                + " not exported:\n" + text));
    }

    @Test
    void a_file_the_route_never_ships_is_not_counted_as_wal_waiting() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Instant twoHoursAgo = Instant.now().minusSeconds(7200);
        for (String name : List.of("000000010000000000000007.partial", "README.txt")) {
            Path file = spool.resolve(name);
            Files.write(file, new byte[1024]);
            Files.setLastModifiedTime(file, FileTime.from(twoHoursAgo));
        }
        Workspace ws = new Workspace(dir.resolve("ws")).templatedJob("pg", "postgresql-physical",
                List.of("host", "127.0.0.1", "port", "1"),
                "- templatedRoute:\n    routeTemplateRef: postgresql-wal\n    routeId: wal-pg\n    parameters:\n"
                        + "      - name: job\n        value: \"pg\"\n"
                        + "      - name: spool\n        value: \"" + spool + "\"\n"
                        + "      - name: pollDelay\n        value: \"50\"\n")
                .property("camel.management.enabled", "true")
                .property("camel.management.metrics-enabled", "true")
                .property("camel.metrics.enabled", "true");
        service = ws.service();
        Thread.sleep(1000); // the route has looked at the spool: nothing in it is a log file
        assertThat(Files.exists(spool.resolve("README.txt"))).isTrue();
        double lag = metric("stowage_archive_lag_seconds{job=\"pg\"}");
        double rpo = metric("stowage_archive_rpo_seconds{job=\"pg\"}");
        assertThat(rpo).as("RPO with no log file waiting (lag " + lag + ")").isLessThan(3600);
        assertThat(lag).as("lag with no log file waiting").isLessThan(3600);
    }

    @Test
    void a_log_file_waiting_still_counts() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool2"));
        Instant now = Instant.now();
        Path note = spool.resolve("README.txt");
        Files.write(note, new byte[10]);
        Files.setLastModifiedTime(note, FileTime.from(now.minusSeconds(7200)));
        Path segment = spool.resolve("000000010000000000000009");
        Files.write(segment, new byte[10]);
        Files.setLastModifiedTime(segment, FileTime.from(now.minusSeconds(100)));
        io.stowage.schedule.WalArchive archive = new io.stowage.schedule.WalArchive("pg", spool,
                java.time.Duration.ofHours(1), 1L << 30, java.util.Map.of())
                .withLogFiles(new PgWalArchive()::isLogFile);
        io.stowage.schedule.WalArchive.SpoolState state = archive.spoolState(now);
        assertThat(state.oldest().toSeconds()).isBetween(99L, 101L);
        assertThat(state.files()).isEqualTo(2);
        assertThat(state.bytes()).isEqualTo(20);
    }

    /**
     * After a restart, the last file that reached every repository did so before the start: the RPO is at least the
     * time since the start. Reporting 0 until a file ships silences StowageArchiveRpoAboveObjective for good when
     * nothing reaches the spool any more (archive_command failing on the server): a restart hides the outage.
     */
    @Test
    void after_a_restart_with_nothing_shipped_the_rpo_is_not_zero() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("empty-spool"));
        Workspace ws = new Workspace(dir.resolve("ws3")).templatedJob("pg", "postgresql-physical",
                List.of("host", "127.0.0.1", "port", "1"),
                "- templatedRoute:\n    routeTemplateRef: postgresql-wal\n    routeId: wal-pg\n    parameters:\n"
                        + "      - name: job\n        value: \"pg\"\n"
                        + "      - name: spool\n        value: \"" + spool + "\"\n"
                        + "      - name: pollDelay\n        value: \"50\"\n")
                .property("camel.management.enabled", "true")
                .property("camel.management.metrics-enabled", "true")
                .property("camel.metrics.enabled", "true");
        service = ws.service();
        Thread.sleep(3000);
        assertThat(metric("stowage_archive_rpo_seconds{job=\"pg\"}"))
                .as("seconds since the start, at least: nothing has reached the repositories since").isGreaterThanOrEqualTo(2);
    }
}
