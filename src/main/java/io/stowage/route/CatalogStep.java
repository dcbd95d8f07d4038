package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:catalog}: the last step. Writes the manifest, last and atomically, into every repository that holds
 * a complete copy: from that moment the backup exists there. The body becomes the backup id. If a copy failed, the
 * backup is still listed where it is complete, and the run then fails with the copy's error.
 */
final class CatalogStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(CatalogStep.class);

    CatalogStep(Map<String, String> parameters) {
        Steps.noParameters(parameters, "catalog");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        BackupRun run = Step.run(exchange);
        if (run.objects.isEmpty() || run.completeIn.isEmpty()) {
            throw StowageException.usage("route '" + exchange.getFromRouteId() + "' reached stowage:catalog without a "
                    + "store step: nothing was stored");
        }
        // The manifest is the commit point: after a stop, the backup stays incomplete (never listed) rather than
        // being committed by a command that is failing.
        io.stowage.Interruption.check();
        if (run.source == null) {
            throw StowageException.usage("route '" + exchange.getFromRouteId() + "' reached stowage:catalog without a "
                    + "source step: nothing was backed up");
        }
        Map<String, Object> details = run.source.details();
        Manifest.Encryption encryption = run.passphrase ? new Manifest.Encryption("age", List.of(), true)
                : run.recipients.isEmpty() ? null : new Manifest.Encryption("age", run.recipients, false);
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, run.id, run.job.name(), run.job.engine(), run.type,
                run.job.method(), null, run.started, Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS),
                run.sizeBytes, run.storedBytes, run.compression, encryption, List.copyOf(run.objects),
                new Manifest.Tool(run.source.toolName(), run.source.toolVersion()),
                new Manifest.Server(run.source.serverVersion(), run.source.serverDetails()), run.source.database(),
                ManifestCodec.JSON.valueToTree(details));
        // Whatever lists or restores the backup reads its manifest back, its engine checking its details: a manifest
        // that would not read back is never written, and the run fails instead of committing a backup no one could
        // list.
        byte[] json = ManifestCodec.write(manifest);
        try {
            ManifestCodec.read(new java.io.ByteArrayInputStream(json), "of backup " + run.id,
                    services.engines().get(run.job.engine())::detailsProblem);
        } catch (StowageException | java.io.IOException e) {
            throw new StowageException("backup " + run.id + " of job " + run.job.name() + " was not committed: its "
                    + "manifest would not read back (" + e.getMessage() + ")", e);
        }
        String key = Catalog.manifestKey(run.job.name(), run.id);
        String first = run.completeIn.get(0);
        for (String name : List.copyOf(run.completeIn)) {
            if (!run.holdsAll(name)) {
                // A copy step ran before a later store step: that repository lacks the later objects, and a manifest
                // there would describe objects it does not hold.
                run.completeIn.remove(name);
                run.copyFailures.putIfAbsent(name, "it holds only some of the backup's objects (a stowage:copy "
                        + "step must follow the last stowage:store step)");
                continue;
            }
            Repository repository = services.repositories().get(name);
            try {
                repository.write(key, out -> out.write(json));
            } catch (RuntimeException | java.io.IOException e) {
                if (name.equals(first)) {
                    throw e;
                }
                run.completeIn.remove(name);
                run.copyFailures.put(name, e.getMessage());
            }
        }
        LOG.info("backup {} of job {} complete in {}", run.id, run.job.name(), run.completeIn);
        exchange.getIn().setBody(run.id);
        if (!run.copyFailures.isEmpty()) {
            StringBuilder failures = new StringBuilder();
            for (Map.Entry<String, String> failure : run.copyFailures.entrySet()) {
                failures.append(failures.length() == 0 ? "" : "; ").append("its copy to '").append(failure.getKey())
                        .append("' failed: ").append(failure.getValue());
            }
            throw new StowageException("backup " + run.id + " is complete in " + quoted(run.completeIn)
                    + " but " + failures + "; the service copies it there once the repository answers again "
                    + "(stowage.catch-up.interval-seconds), and 'stowage sync " + run.job.name() + "' does it now");
        }
    }

    private static String quoted(List<String> names) {
        return names.stream().map(n -> "'" + n + "'").reduce((a, b) -> a + ", " + b).orElse("none");
    }
}
