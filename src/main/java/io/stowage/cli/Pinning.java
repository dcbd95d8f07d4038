package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.CatalogEntry;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.util.List;
import java.util.function.Consumer;

/** What {@code pin} and {@code unpin} share: finding the backup, and the repositories holding it. */
final class Pinning {
    private Pinning() {
    }

    /** The backup {@code id} of {@code job} (not {@code latest}: a pin names one backup); refused when unknown. */
    static CatalogEntry find(StowageServices services, String job, String id, Consumer<String> warnings) {
        if (!BackupId.isValid(id)) {
            throw StowageException.usage("'" + io.stowage.TerminalText.line(id) + "' is not a backup id (like "
                    + "20261121T020000Z-F); HINT: 'stowage list " + job + "' shows them");
        }
        if (!job.matches("[a-z0-9][a-z0-9_-]*")) {
            services.jobs().get(job);
        }
        io.stowage.catalog.CatalogListing listing = services.catalog().read(job, warnings);
        if (listing.entries().isEmpty() && listing.unreadable().isEmpty()) {
            // Neither configured nor in any repository: a typo, refused naming the jobs there are (not "run a backup
            // of it"). The backups of a job since removed from routes/ can still be pinned.
            services.jobs().get(job);
        }
        return listing.find(job, id);
    }

    /**
     * Holds the job's retention lock (see {@link io.stowage.retention.Expiry#pinLock}) for a pin or unpin, waiting
     * up to {@code stowage.expire.lock-wait-seconds} for an expiry of the job to finish.
     */
    static io.stowage.lock.ExclusiveLock lock(StowageServices services, String job) throws Exception {
        if (!job.matches("[a-z0-9][a-z0-9_-]*")) {
            services.jobs().get(job); // not a job name at all: refused before anything is created for it
        }
        long wait = services.settings().number("stowage.expire.lock-wait-seconds");
        return io.stowage.retention.Expiry.pinLock(services, job, java.time.Duration.ofSeconds(wait))
                .orElseThrow(() -> new StowageException("an expiry of job '" + job + "' is running and did not "
                        + "finish within " + wait + " s; HINT: run the command again when it has"));
    }

    static List<Repository> holders(StowageServices services, CatalogEntry entry) {
        return services.repositories().all().stream().filter(r -> entry.repositories().contains(r.name())).toList();
    }
}
