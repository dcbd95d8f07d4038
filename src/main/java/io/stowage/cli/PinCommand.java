package io.stowage.cli;

import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Pins;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageRuntime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pin JOB ID [--reason TEXT]}: keeps a backup whatever the retention policies say, with everything it depends
 * on, until {@code unpin}. Writes {@code pinned.json} beside the manifest in every repository holding the backup.
 */
@Command(name = "pin", description = "Keep a backup whatever the retention policies say, until 'stowage unpin'.")
final class PinCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "JOB", description = "The backup's job.")
    String job;

    @Parameters(index = "1", paramLabel = "ID", description = "The backup id (see 'stowage list').")
    String id;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why (kept in the pin and the audit log).")
    String reason;

    @Override
    public Integer call() throws Exception {
        try (StowageRuntime runtime = startLightRuntime()) {
            var services = runtime.services();
            Pinning.find(services, job, id, w -> { }); // an unknown job or backup: refused before any lock is taken
            try (io.stowage.lock.ExclusiveLock held = Pinning.lock(services, job)) {
                return pin(services);
            }
        }
    }

    private int pin(io.stowage.services.StowageServices services) throws Exception {
        CatalogEntry entry = Pinning.find(services, job, id, this::warn);
        String why = reason == null ? "" : io.stowage.TerminalText.line(reason.strip());
        if (why.length() > 500) {
            throw StowageException.usage("--reason is longer than 500 characters");
        }
        Pins.Pin pin = new Pins.Pin(Pins.FORMAT_VERSION, job, entry.id(), Instant.now(), why,
                System.getProperty("user.name") + "@" + AuditLog.host());
        List<String> failed = new ArrayList<>();
        List<String> pinned = new ArrayList<>();
        for (Repository repository : Pinning.holders(services, entry)) {
            try {
                Pins.write(repository, pin);
                pinned.add(repository.name());
            } catch (Exception e) {
                failed.add(repository.name() + ": " + io.stowage.Failures.describe(e));
            }
        }
        services.audit().record(new AuditLog.Entry("pin", job, entry.id(), failed.isEmpty() ? "success"
                : pinned.isEmpty() ? "failure" : "partial", null, failed.isEmpty() ? (why.isEmpty() ? null
                : "reason: " + why) : String.join("; ", failed)));
        if (pinned.isEmpty()) {
            throw new StowageException("backup " + entry.id() + " of job " + job + " is not pinned: "
                    + String.join("; ", failed));
        }
        out().println("pinned backup " + entry.id() + " of job " + job + " in " + String.join(", ", pinned)
                + (why.isEmpty() ? "" : " (" + why + ")"));
        out().flush();
        if (!failed.isEmpty()) {
            // Pinned (any repository's pin file protects it everywhere), but not in every copy.
            throw new StowageException("backup " + entry.id() + " is pinned, but its pin could not be written in "
                    + String.join("; ", failed) + "; HINT: run 'stowage pin' again when the repository answers");
        }
        return 0;
    }
}
