package io.stowage.route;

import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.repository.Repositories;
import io.stowage.repository.S3Repository;
import io.stowage.runtime.StowageServices;
import java.io.File;
import java.util.Map;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Steps around the S3 copy that camel-aws2-s3 makes from the stored file. camel-aws2-s3 reads a {@link File} body
 * part by part (bounded memory) and aborts the multipart upload when a part fails; an S3 object appears only when
 * the upload completes, so a failed copy leaves nothing that could be mistaken for a backup.
 */
final class CopySteps {
    private CopySteps() {
    }

    /** {@code stowage:s3-object}: sets the S3 key of the object the store step wrote; the body stays the file. */
    static final class S3Object implements Step {
        S3Object(Map<String, String> parameters) {
            Steps.noParameters(parameters, "s3-object");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = Step.run(exchange);
            S3Repository s3 = (S3Repository) services.repositories().get(Repositories.S3);
            if (run.lastObjectKey == null || !(exchange.getIn().getBody() instanceof File)) {
                throw StowageException.usage("stowage:s3-object needs the file a 'stowage:store?repository=local' step"
                        + " wrote");
            }
            // One HEAD first: a missing bucket or an unreachable endpoint is then named as such, rather than showing as
            // whatever the interrupted upload happens to report (a broken pipe, a reset).
            try {
                s3.check();
            } catch (java.io.IOException e) {
                throw new io.stowage.repository.RepositoryException(e.getMessage(), e);
            }
            exchange.getIn().setHeader(AWS2S3Constants.KEY, s3.objectKey(run.lastObjectKey));
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
