package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.StowageService;
import io.stowage.testing.ThrowawayPostgres;
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

    @BeforeAll
    static void startArchivingCluster() throws Exception {
        spool = ThrowawayPostgres.serverWritableDirectory(Files.createTempDirectory(Path.of("/tmp"), "stowage-spool-"));
        cluster = ThrowawayPostgres.startNew(Map.of("wal_level", "replica", "archive_mode", "on",
                "archive_command", "'" + Path.of("bin/stowage-archive-wal").toAbsolutePath() + " " + spool + " %p %f'"));
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
        Path wal = ws.repository().resolve("postgres/wal");
        if (!Files.isDirectory(wal)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(wal)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    private static long spooled() throws Exception {
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        }
    }

    @Test
    void should_take_a_physical_backup_and_ship_the_wal_it_needs() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool)
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
        try (StowageService service = ws.service()) {
            var exchange = service.runtime().context().createProducerTemplate().send("direct:run-backup", e -> {
                e.getIn().setHeader("StowageJob", "postgres");
                e.getIn().setHeader("StowageBackupType", "full");
                e.getIn().setHeader("StowageTrigger", "command");
            });
            assertThat(exchange.getProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT, Throwable.class)).isNull();
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
            Path manifest = ws.repository().resolve("postgres").resolve(entry.get("id").asText()).resolve("manifest.json");
            JsonNode wal = ManifestCodec.JSON.readTree(manifest.toFile()).get("wal");
            assertThat(wal.get("timeline").asInt()).isEqualTo(1);
            assertThat(wal.get("segmentSize").asLong()).isEqualTo(16L * 1024 * 1024);
            assertThat(ws.repository().resolve("postgres").resolve(entry.get("id").asText()).resolve("base.tar.zst"))
                    .exists();
        }
    }

    @Test
    void should_refuse_a_differential_backup_until_postgresql_has_them() throws Exception {
        Workspace ws = new Workspace(dir).physicalJob("postgres", cluster, spool);
        Workspace.Result result = ws.run("backup", "postgres", "--type", "diff");
        assertThat(result.status()).isEqualTo(2);
        assertThat(result.err()).startsWith("error: job 'postgres' (postgresql physical) supports [full] backups, not 'diff'");
    }
}
