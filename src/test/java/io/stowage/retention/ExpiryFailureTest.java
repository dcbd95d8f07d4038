package io.stowage.retention;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.CatalogListing;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.job.Job;
import io.stowage.job.JobRegistry;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repositories;
import io.stowage.repository.Repository;
import io.stowage.repository.RepositoryException;
import io.stowage.services.StowageServices;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repository that fails in the middle of an expiry: what was deleted stays deleted, the catalog never lists a
 * backup with missing objects, the other repositories are expired all the same, and the next expiry finishes (the
 * backup whose manifest went before the failure is removed as an orphan). Real local repositories; the second fails
 * its N-th batch delete, as a bucket that stops answering would.
 */
class ExpiryFailureTest {
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    @TempDir
    Path dir;

    /** A real local repository whose batch deletes fail while {@link #failing} is positive (counting down). */
    private static final class Failing extends io.stowage.testing.ForwardingRepository {
        final AtomicInteger failing = new AtomicInteger();
        final AtomicInteger passBefore = new AtomicInteger();

        Failing(LocalRepository delegate) {
            super(delegate);
        }

        @Override
        public void delete(Collection<String> keys) throws IOException {
            if (failing.get() > 0 && passBefore.getAndDecrement() <= 0) {
                failing.decrementAndGet();
                throw new RepositoryException("cannot delete in repository '" + name() + "': the repository does "
                        + "not answer", null, true);
            }
            delegate.delete(keys);
        }
    }

    private static Manifest manifest(String id) {
        Instant started = Instant.parse(id.substring(0, 4) + "-" + id.substring(4, 6) + "-" + id.substring(6, 8)
                + "T02:00:00Z");
        return new Manifest(Manifest.FORMAT_VERSION, id, "db", "postgresql", BackupType.FULL, "logical", null,
                started, started.plusSeconds(60), 1000, 300, new Manifest.Compression("zstd", 1), null,
                List.of(new Manifest.StoredObject("dump.pgfc.zst", 1000, 300, "ab".repeat(32))),
                new Manifest.Tool("pg_dump", "15.20"), new Manifest.Server("15.20", Map.of()), "db", null);
    }

    private static void backup(Repository repository, String id) throws IOException {
        repository.write(Catalog.objectKey("db", id, "dump.pgfc.zst"), out -> out.write(new byte[300]));
        repository.write(Catalog.objectKey("db", id, "extra.txt"), out -> out.write(1));
        repository.write(Catalog.manifestKey("db", id), out -> out.write(ManifestCodec.write(manifest(id))));
    }

    @Test
    void should_leave_nothing_listed_broken_when_a_repository_fails_mid_way_and_finish_on_the_next_run()
            throws Exception {
        LocalRepository local = new LocalRepository("local", dir.resolve("local"));
        Failing nas = new Failing(new LocalRepository("nas", dir.resolve("nas")));
        List<String> ids = new ArrayList<>();
        for (int daysAgo = 10; daysAgo >= 6; daysAgo--) {
            String id = BackupId.of(NOW.minus(Duration.ofDays(daysAgo)).minusSeconds(36_000), BackupType.FULL);
            ids.add(id);
            backup(local, id);
            backup(nas, id);
        }
        Repositories repositories = new Repositories(List.of(local, nas), Map.of("local",
                Repositories.Attributes.local(), "nas", new Repositories.Attributes("local", "nas", false, "")), true);
        StowageServices services = new StowageServices(repositories, io.stowage.runtime.EngineCatalog.engines());
        services.jobs(JobRegistry.of(Map.of("db", new Job("db", "postgresql", "logical", "backup-db",
                Map.of("retention", "2")))));
        Expiry expiry = new Expiry(services, (job, wait) -> Optional.of(() -> { }), Clock.fixed(NOW, ZoneOffset.UTC));

        // The nas fails the second batch delete: the newest released backup is gone, the next one loses only its
        // manifest before the failure.
        nas.failing.set(1);
        nas.passBefore.set(1);
        Expiry.Report first = expiry.run(new Expiry.Options("db", null, false));

        assertThat(first.failures()).singleElement().asString().contains("repository 'nas'")
                .contains("does not answer").contains("the next expiry finishes");
        // local was expired whatever happened to the nas.
        assertThat(local.children("db/")).containsExactly(ids.get(3) + "/", ids.get(4) + "/");
        CatalogListing listed = services.catalog().read("db", w -> { });
        for (CatalogEntry entry : listed.entries()) {
            assertThat(entry.missing()).as(entry.id()).isEmpty();
        }
        assertThat(listed.entries().stream().filter(e -> e.repositories().contains("nas")).map(CatalogEntry::id))
                .containsExactly(ids.get(0), ids.get(3), ids.get(4));
        // The backup whose manifest went first is an incomplete directory now, never listed.
        assertThat(listed.incomplete()).singleElement().satisfies(i -> {
            assertThat(i.id()).isEqualTo(ids.get(1));
            assertThat(i.repository()).isEqualTo("nas");
        });

        Expiry.Report second = expiry.run(new Expiry.Options("db", null, false));

        assertThat(second.failures()).isEmpty();
        assertThat(second.expired()).isEqualTo(1);
        assertThat(second.orphans()).isEqualTo(1);
        assertThat(nas.children("db/")).containsExactly(ids.get(3) + "/", ids.get(4) + "/");
        assertThat(nas.list("db/" + ids.get(1) + "/")).isEmpty();
        assertThat(services.catalog().read("db", w -> { }).incomplete()).isEmpty();

        // A third run has nothing to do.
        Expiry.Report third = expiry.run(new Expiry.Options("db", null, false));
        assertThat(third.failures()).isEmpty();
        assertThat(third.expired() + third.orphans() + third.logObjects()).isZero();
    }

    @Test
    void should_leave_a_young_incomplete_backup_which_another_host_may_still_be_writing() throws Exception {
        LocalRepository local = new LocalRepository("local", dir.resolve("local"));
        String old = BackupId.of(NOW.minus(Duration.ofDays(3)), BackupType.FULL);
        String young = BackupId.of(NOW.minus(Duration.ofHours(2)), BackupType.FULL);
        String complete = BackupId.of(NOW.minus(Duration.ofHours(1)), BackupType.FULL);
        local.write(Catalog.objectKey("db", old, "dump.pgfc.zst"), out -> out.write(1));
        local.write(Catalog.objectKey("db", young, "dump.pgfc.zst"), out -> out.write(1));
        backup(local, complete);
        StowageServices services = new StowageServices(new Repositories(local, null),
                io.stowage.runtime.EngineCatalog.engines());
        services.jobs(JobRegistry.of(Map.of("db", new Job("db", "postgresql", "logical", "backup-db",
                Map.of("retention", "1")))));
        Expiry expiry = new Expiry(services, (job, wait) -> Optional.of(() -> { }), Clock.fixed(NOW, ZoneOffset.UTC));

        Expiry.Report dry = expiry.run(new Expiry.Options("db", null, true));
        assertThat(dry.lines()).anyMatch(l -> l.contains(old) && l.contains("would be removed"))
                .anyMatch(l -> l.contains(young) && l.contains("left: younger than 48 h"));
        assertThat(local.children("db/")).contains(old + "/", young + "/");

        Expiry.Report run = expiry.run(new Expiry.Options("db", null, false));
        assertThat(run.failures()).isEmpty();
        assertThat(run.orphans()).isEqualTo(1);
        assertThat(local.children("db/")).containsExactly(young + "/", complete + "/");
    }
}
