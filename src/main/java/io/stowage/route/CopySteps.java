package io.stowage.route;

import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.repository.Repository;
import io.stowage.repository.RepositoryException;
import io.stowage.repository.S3Repository;
import io.stowage.services.StowageServices;
import java.io.File;
import java.io.IOException;
import java.util.Map;
import org.apache.camel.Exchange;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Steps around the copy of a stored file to another repository. The copy is the repository's own upload: for S3,
 * {@link io.stowage.repository.S3Repository} reads the file part by part (one part in memory), sends every part
 * with its SHA-256 for S3 to check, and aborts the multipart upload when a part fails; an S3 object appears only when
 * the upload completes, so a failed copy leaves nothing that could be mistaken for a backup.
 */
final class CopySteps {
    private CopySteps() {
    }

    /**
     * {@code stowage:upload?repository=s3}: copies the file the store step wrote (the body, which stays the file) to
     * that repository under the same key, in the storage class the {@code StowageStorageClass} header names (the
     * job's {@code storageClass}; none: the bucket's default).
     */
    static final class Upload implements Step {
        /** The header a backup route sets to choose the copy's storage class (the job's storageClass). */
        static final String STORAGE_CLASS_HEADER = "StowageStorageClass";

        private final String repository;

        Upload(Map<String, String> parameters) {
            repository = Steps.required(parameters, "repository", "upload");
            Steps.noParameters(parameters, "upload");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = Step.run(exchange);
            if (run.lastObjectKey == null || !(exchange.getIn().getBody() instanceof File file)) {
                throw StowageException.usage("stowage:upload needs the file a 'stowage:store?repository=local' step"
                        + " wrote");
            }
            Repository target = services.repositories().get(repository);
            try {
                // One look at the repository first: a missing bucket or an unreachable endpoint is then named as
                // such, rather than showing as whatever the interrupted upload happens to report (a broken pipe).
                target.check();
                target.upload(run.lastObjectKey, file.toPath(),
                        exchange.getIn().getHeader(STORAGE_CLASS_HEADER, String.class));
            } catch (IOException e) {
                throw new RepositoryException("cannot copy '" + run.lastObjectKey + "' to repository '" + repository
                        + "': " + e.getMessage(), e);
            }
        }
    }

    /** {@code stowage:copied?repository=s3}: the copy is complete in that repository. */
    static final class Copied implements Step {
        private final String repository;

        Copied(Map<String, String> parameters) {
            repository = Steps.required(parameters, "repository", "copied");
            Steps.noParameters(parameters, "copied");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = Step.run(exchange);
            if (!run.completeIn.contains(repository)) {
                run.completeIn.add(repository);
            }
        }
    }

    /**
     * {@code stowage:copy-failed?repository=s3}: called from the copy route's error handling. Records why the copy
     * failed; the backup goes on to the catalog, which lists it where it is complete and then fails the run.
     */
    static final class CopyFailed implements Step {
        private final String repository;

        CopyFailed(Map<String, String> parameters) {
            repository = Steps.required(parameters, "repository", "copy-failed");
            Steps.noParameters(parameters, "copy-failed");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = Step.run(exchange);
            Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            run.completeIn.remove(repository);
            run.copyFailures.put(repository, describe(services, run, cause));
        }

        private String describe(StowageServices services, BackupRun run, Throwable cause) {
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof SdkException sdk && services.repositories().get(repository) instanceof S3Repository s3) {
                    return s3.failure("upload", run.lastObjectKey, sdk).getMessage();
                }
                if (t instanceof StowageException) {
                    return t.getMessage();
                }
            }
            return Secrets.mask(String.valueOf(cause));
        }
    }
}
