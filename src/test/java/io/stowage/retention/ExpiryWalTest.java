package io.stowage.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.config.Settings;
import io.stowage.engine.postgresql.PgDetails;
import io.stowage.job.Job;
import io.stowage.job.JobRegistry;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repositories;
import io.stowage.runtime.EngineCatalog;
import io.stowage.services.StowageServices;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expiry of physical PostgreSQL backups and their WAL where the archive is not simply one growing timeline. */
class ExpiryWalTest {
    private static final String JOB = "pg";
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final long SEGMENT_SIZE = 16L << 20;

    @TempDir
    Path dir;

    private static String segment(int timeline, long position) {
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, position / 256, position % 256);
    }

    private static void wal(LocalRepository repository, String name) throws Exception {
        Path wal = Files.createDirectories(repository.root().resolve(JOB).resolve("wal"));
        Files.writeString(wal.resolve(name + ".zst"), name);
    }

    private static String backup(LocalRepository repository, Instant started, int timeline, long start, long stop)
            throws Exception {
        String id = BackupId.of(started, BackupType.FULL);
        Path directory = Files.createDirectories(repository.root().resolve(JOB).resolve(id));
        Files.writeString(directory.resolve("base.tar.zst"), id);
        PgDetails.Wal wal = new PgDetails.Wal(timeline, String.format(Locale.ROOT, "0/%X", start * SEGMENT_SIZE + 40),
                String.format(Locale.ROOT, "0/%X", stop * SEGMENT_SIZE + 256), segment(timeline, start),
                segment(timeline, stop), SEGMENT_SIZE);
        com.fasterxml.jackson.databind.node.ObjectNode details = ManifestCodec.JSON.createObjectNode();
        details.set("wal", ManifestCodec.JSON.valueToTree(wal));
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, id, JOB, "postgresql", BackupType.FULL, "physical",
                null, started, started.plusSeconds(600), 1, 1, new Manifest.Compression("zstd", 3), null,
                List.of(new Manifest.StoredObject("base.tar.zst", 1, 1, "0".repeat(64))),
                new Manifest.Tool("pg_basebackup", "17.2"), new Manifest.Server("17.2", Map.of()), null, details);
        Files.write(directory.resolve(Manifest.FILE_NAME), ManifestCodec.write(manifest));
        return id;
    }

    private static Expiry expiry(LocalRepository local, String policy) {
        Properties properties = new Properties();
        properties.setProperty("stowage.repository.local.retention", policy);
        org.apache.camel.component.properties.PropertiesComponent component =
                new org.apache.camel.component.properties.PropertiesComponent();
        component.setCamelContext(new org.apache.camel.impl.DefaultCamelContext());
        component.setInitialProperties(properties);
        component.start();
        StowageServices services = new StowageServices(new Repositories(List.of(local),
                Map.of("local", Repositories.Attributes.local()), true), EngineCatalog.engines());
        services.settings(Settings.read(component, null));
        component.stop();
        services.jobs(JobRegistry.of(Map.of(JOB, new Job(JOB, "postgresql", "physical", "backup-" + JOB, Map.of()))));
        return new Expiry(services, (job, wait) -> Optional.of(() -> { }), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @Test
    void should_keep_the_newest_backup_whose_wal_is_archived_while_the_newest_one_still_lacks_its_wal() throws Exception {
        LocalRepository local = new LocalRepository("local", Files.createDirectories(dir.resolve("local")));
        for (long p = 0x10; p <= 0x20; p++) {
            wal(local, segment(1, p));
        }
        String f1 = backup(local, Instant.parse("2026-11-20T02:00:00Z"), 1, 0x10, 0x11);
        // The newest full's WAL (0x30, 0x31) is still in the spool: the log route has not shipped it yet.
        String f2 = backup(local, Instant.parse("2026-12-01T02:00:00Z"), 1, 0x30, 0x31);

        Expiry.Report report = expiry(local, "1").run(new Expiry.Options(JOB, null, false));
        assertEquals(List.of(), report.failures());
        assertTrue(Files.exists(local.root().resolve(JOB).resolve(f2).resolve(Manifest.FILE_NAME)));
        // Until it is shipped, f1 (with its WAL) is the newest backup this repository can restore.
        assertTrue(Files.exists(local.root().resolve(JOB).resolve(f1).resolve(Manifest.FILE_NAME)),
                "the only restorable backup was expired");
        assertTrue(Files.exists(local.root().resolve(JOB).resolve("wal").resolve(segment(1, 0x11) + ".zst")));
        assertEquals("its log is not in this repository's archive (yet)", report.rows().stream()
                .filter(r -> r.decision().backup().id().equals(f2)).findFirst().orElseThrow().note());
    }

    @Test
    void should_keep_the_wal_of_a_timeline_that_branched_below_the_position_the_log_is_kept_from() throws Exception {
        LocalRepository local = new LocalRepository("local", Files.createDirectories(dir.resolve("local")));
        // Timeline 1: segments 0x10 to 0x50, a full at 0x10 and one at 0x40.
        for (long p = 0x10; p <= 0x50; p++) {
            wal(local, segment(1, p));
        }
        backup(local, Instant.parse("2026-11-01T02:00:00Z"), 1, 0x10, 0x11);
        String f2 = backup(local, Instant.parse("2026-11-20T02:00:00Z"), 1, 0x40, 0x41);
        // A point-in-time restore to position 0x30 of timeline 1: timeline 2 from there, and a full on it at 0x38.
        wal(local, "00000002.history");
        for (long p = 0x30; p <= 0x48; p++) {
            wal(local, segment(2, p));
        }
        String f3 = backup(local, Instant.parse("2026-11-28T02:00:00Z"), 2, 0x38, 0x39);

        Expiry expiry = expiry(local, "2");
        Expiry.Report report = expiry.run(new Expiry.Options(JOB, null, false));
        assertEquals(List.of(), report.failures());
        assertTrue(Files.exists(local.root().resolve(JOB).resolve(f2).resolve(Manifest.FILE_NAME)));
        // f3, the newest backup, restores to the newest point of timeline 2 only with every segment since its start.
        List<String> missing = new ArrayList<>();
        for (long p = 0x38; p <= 0x48; p++) {
            if (!Files.exists(local.root().resolve(JOB).resolve("wal").resolve(segment(2, p) + ".zst"))) {
                missing.add(segment(2, p));
            }
        }
        assertEquals(List.of(), missing, "WAL of timeline 2 after " + f3 + " expired");
        assertTrue(Files.exists(local.root().resolve(JOB).resolve("wal").resolve(segment(1, 0x40) + ".zst")));
    }
}
