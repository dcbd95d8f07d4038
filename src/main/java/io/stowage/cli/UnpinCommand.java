package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Pins;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageRuntime;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code unpin JOB ID}: the retention policies apply to the backup again (from the next expiry). */
@Command(name = "unpin", description = "Let the retention policies apply to a pinned backup again.")
final class UnpinCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "JOB", description = "The backup's job.")
    String job;

    @Parameters(index = "1", paramLabel = "ID", description = "The backup id.")
    String id;

    @Override
    public Integer call() throws Exception {
        try (StowageRuntime runtime = startLightRuntime()) {
            var services = runtime.services();
            Pinning.find(services, job, id, w -> { }); // an unknown job or backup: refused before any lock is taken
            try (io.stowage.lock.ExclusiveLock held = Pinning.lock(services, job)) {
                return unpin(services);
            }
        }
    }

    private int unpin(io.stowage.services.StowageServices services) throws Exception {
        CatalogEntry entry = Pinning.find(services, job, id, this::warn);
        if (!entry.pinned()) {
            throw StowageException.usage("backup " + entry.id() + " of job " + job + " is not pinned");
        }
        List<String> failed = new ArrayList<>();
        // Every repository, not only those holding a complete copy: a pin file anywhere pins the backup.
        for (Repository repository : services.repositories().all()) {
            try {
                repository.delete(Pins.key(job, entry.id()));
            } catch (Exception e) {
                failed.add(repository.name() + ": " + io.stowage.Failures.describe(e));
            }
        }
        services.audit().record(new AuditLog.Entry("unpin", job, entry.id(), failed.isEmpty() ? "success"
                : "failure", null, failed.isEmpty() ? null : String.join("; ", failed)));
        if (!failed.isEmpty()) {
            throw new StowageException("backup " + entry.id() + " of job " + job + " is still pinned: its pin "
                    + "could not be removed in " + String.join("; ", failed) + "; HINT: run 'stowage unpin' again "
                    + "when the repository answers");
        }
        out().println("unpinned backup " + entry.id() + " of job " + job + ": the retention policies apply to it "
                + "from the next expiry");
        out().flush();
        return 0;
    }
}
