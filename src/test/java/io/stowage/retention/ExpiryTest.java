package io.stowage.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.config.Settings;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Expiry} over two local repositories whose policies differ (the model-based test covers random histories). */
class ExpiryTest {
    private static final String JOB = "pg";
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    @TempDir
    Path dir;

    private static String write(LocalRepository repository, Instant started, BackupType type, String parent)
            throws Exception {
        String id = BackupId.of(started, type);
        Path directory = repository.root().resolve(JOB).resolve(id);
        Files.createDirectories(directory);
        Files.writeString(directory.resolve("base.tar.zst"), id);
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, id, JOB, "postgresql", type, "physical", parent,
                started, started.plusSeconds(600), 1, 1, new Manifest.Compression("zstd", 3), null,
                List.of(new Manifest.StoredObject("base.tar.zst", 1, 1, "0".repeat(64))), null, null, null, null);
        Files.write(directory.resolve(Manifest.FILE_NAME), ManifestCodec.write(manifest));
        return id;
    }

    private static boolean holds(LocalRepository repository, String id) {
        return Files.exists(repository.root().resolve(JOB).resolve(id).resolve(Manifest.FILE_NAME));
    }

    @Test
    void should_break_a_chain_here_in_the_run_that_releases_the_only_other_copy_of_its_link() throws Exception {
        LocalRepository local = new LocalRepository("local", Files.createDirectories(dir.resolve("local")));
        LocalRepository far = new LocalRepository("far", Files.createDirectories(dir.resolve("far")));
        // f1's chain: x is only in local, i (which depends on f1 through x) only in far.
        Instant f1Start = Instant.parse("2026-11-10T02:00:00Z");
        String f1 = write(local, f1Start, BackupType.FULL, null);
        write(far, f1Start, BackupType.FULL, null);
        String x = write(local, Instant.parse("2026-11-11T02:00:00Z"), BackupType.INCR, f1);
        String i = write(far, Instant.parse("2026-11-12T02:00:00Z"), BackupType.INCR, x);
        Instant f2Start = Instant.parse("2026-12-01T02:00:00Z");
        String f2 = write(local, f2Start, BackupType.FULL, null);
        write(far, f2Start, BackupType.FULL, null);

        // local keeps one full: x goes, the only copy there is. far keeps the newest full of each of two months.
        Properties properties = new Properties();
        properties.setProperty("stowage.repository.local.retention", "1");
        properties.setProperty("stowage.repository.far.retention", "2m,1y");
        org.apache.camel.component.properties.PropertiesComponent component =
                new org.apache.camel.component.properties.PropertiesComponent();
        component.setCamelContext(new org.apache.camel.impl.DefaultCamelContext());
        component.setInitialProperties(properties);
        component.start();
        StowageServices services = new StowageServices(new Repositories(List.of(local, far),
                Map.of("local", Repositories.Attributes.local(), "far", Repositories.Attributes.local()), true),
                EngineCatalog.engines());
        services.settings(Settings.read(component, null));
        component.stop();
        services.jobs(JobRegistry.of(Map.of(JOB, new Job(JOB, "postgresql", "physical", "backup-" + JOB, Map.of()))));
        Expiry expiry = new Expiry(services, (job, wait) -> Optional.of(() -> { }), Clock.fixed(NOW, ZoneOffset.UTC));

        Expiry.Report first = expiry.run(new Expiry.Options(JOB, null, false));
        assertEquals(List.of(), first.failures());
        assertFalse(holds(local, x));
        assertTrue(holds(far, f1), "the newest full of November");
        // i depended on f1 through x; once x is gone everywhere it restores from nowhere, and goes in the same run.
        assertFalse(holds(far, i));
        assertEquals("policy 2m,1y: its chain's full (" + i + ") is not kept", first.rows().stream()
                .filter(r -> r.repository().equals("far") && r.decision().backup().id().equals(i)).findFirst()
                .orElseThrow().decision().reason());

        Expiry.Report second = expiry.run(new Expiry.Options(JOB, null, false));
        assertEquals(0, second.expired(), "a second expiry right after the first has nothing to do");
        assertTrue(holds(local, f2) && holds(far, f2));
    }
}
