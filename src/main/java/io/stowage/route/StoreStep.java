package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.catalog.Manifest;
import io.stowage.pipeline.BackupStream;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:store}: runs the backup stream, in one pass, into the job's first repository (or the one
 * {@code repository=NAME} names) under {@code <job>/<id>/<object>}. The repository writes atomically, so an
 * interrupted store leaves nothing that looks like an object. Afterwards the body is the stored file (when the
 * repository is local), and {@code stowage:copy} copies the object to the job's other repositories.
 */
final class StoreStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(StoreStep.class);

    private final String repositoryName;

    StoreStep(Map<String, String> parameters) {
        String named = parameters.remove("repository");
        repositoryName = named == null || named.isBlank() ? null : named.strip();
        Steps.noParameters(parameters, "store");
    }

    @Override
    public void check(StowageServices services) {
        if (services != null && repositoryName != null && !services.repositories().isConfigured(repositoryName)) {
            try {
                services.repositories().get(repositoryName);
            } catch (StowageException e) {
                throw StowageException.usage("stowage:store: " + e.getMessage());
            }
        }
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        BackupRun run = Step.run(exchange);
        BackupStream stream = FilterSteps.stream(exchange, "store");
        Repository repository = repositoryName == null ? services.repositories().forJob(run.job().name(), run.job().parameters().get("repositories")).get(0)
                : services.repositories().get(repositoryName);
        String key = run.prefix() + stream.objectName();
        BackupStream.Result[] result = new BackupStream.Result[1];
        long started = System.nanoTime();
        repository.write(key, out -> result[0] = stream.writeTo(out));
        BackupStream.Result r = result[0];
        run.objects.add(new Manifest.StoredObject(r.objectName(), r.rawBytes(), r.storedBytes(), r.sha256()));
        run.sizeBytes += r.rawBytes();
        run.storedBytes += r.storedBytes();
        run.compression = new Manifest.Compression(stream.codec().id(), stream.level());
        run.recipients = stream.recipients();
        run.passphrase = stream.passphrase();
        run.lastObjectKey = key;
        run.lastStoredIn = repository.name();
        run.storedKeys.put(key, repository.name());
        if (!run.completeIn.contains(repository.name())) {
            run.completeIn.add(repository.name());
        }
        LOG.info("stored {} in repository {}: {} bytes read, {} stored, {} ms", key, repository.name(), r.rawBytes(),
                r.storedBytes(), (System.nanoTime() - started) / 1_000_000);
        exchange.getIn().setBody(repository.localFile(key).map(java.nio.file.Path::toFile).orElse(null));
    }
}
