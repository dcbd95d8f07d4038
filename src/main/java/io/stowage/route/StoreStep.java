package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.catalog.Manifest;
import io.stowage.pipeline.BackupStream;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:store?repository=local}: runs the backup stream, in one pass, into the repository under
 * {@code <job>/<id>/<object>}. The repository writes atomically, so an interrupted store leaves nothing that looks
 * like an object. Afterwards the body is the stored file (when the repository is local), ready for a copy step.
 */
final class StoreStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(StoreStep.class);

    private final String repositoryName;

    StoreStep(Map<String, String> parameters) {
        repositoryName = parameters.getOrDefault("repository", "local");
        if (!repositoryName.equals("local") && !repositoryName.equals("s3")) {
            throw StowageException.usage("stowage:store: unknown repository '" + repositoryName + "': use local or s3");
        }
        parameters.remove("repository");
        Steps.noParameters(parameters, "store");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        BackupRun run = Step.run(exchange);
        BackupStream stream = FilterSteps.stream(exchange, "store");
        Repository repository = services.repositories().get(repositoryName);
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
        if (!run.completeIn.contains(repository.name())) {
            run.completeIn.add(repository.name());
        }
        LOG.info("stored {} in repository {}: {} bytes read, {} stored, {} ms", key, repository.name(), r.rawBytes(),
                r.storedBytes(), (System.nanoTime() - started) / 1_000_000);
        if (repository instanceof LocalRepository local) {
            exchange.getIn().setBody(local.file(key).toFile());
        } else {
            exchange.getIn().setBody(null);
        }
    }
}
