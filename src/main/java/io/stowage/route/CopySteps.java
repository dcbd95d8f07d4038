package io.stowage.route;

import io.stowage.Secrets;
import io.stowage.StowageException;
import io.stowage.repository.Repository;
import io.stowage.repository.RepositoryException;
import io.stowage.services.StowageServices;
import java.io.IOException;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * The copy of a stored object to a backup job's other repositories. {@code stowage:copy} is the one generic step:
 * after {@code stowage:store} wrote the object to the job's first repository, it copies it to each other repository
 * of the job, in the configured order, through {@link Repository#copy}: between two S3 repositories of one endpoint,
 * S3 copies it server-side (CopyObject, UploadPartCopy above 5 GiB) with its SHA-256; from a local file, an upload
 * that reads the file part by part (one part in memory) and sends every part with its SHA-256 for S3 to check;
 * otherwise the stored object is read as a stream. An S3 object appears only when its upload completes, a local
 * one only when renamed into place, so a failed copy leaves nothing that could be mistaken for a backup.
 *
 * <p>A failed copy does not fail the backup at once: it is recorded for its repository, the other copies go on,
 * the catalog step writes the manifest where the backup is complete, and then fails the run naming each failure.
 * {@code upload}, {@code copied} and {@code copy-failed} are the same copy to one named repository, for routes that
 * spell it out with their own doTry.
 */
final class CopySteps {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CopySteps.class);

    /** The header a backup route sets to choose the copies' storage class (the job's storageClass). */
    static final String STORAGE_CLASS_HEADER = "StowageStorageClass";

    private CopySteps() {
    }

    /**
     * {@code stowage:copy}: every object the store steps wrote and not yet copied, to every other repository of the
     * job; a repository is complete once it holds all of them. Failures recorded.
     */
    static final class Copy implements Step {
        Copy(Map<String, String> parameters) {
            Steps.noParameters(parameters, "copy");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = Step.run(exchange);
            if (run.lastObjectKey == null) {
                throw StowageException.usage("stowage:copy needs a 'stowage:store' step before it");
            }
            String storageClass = exchange.getIn().getHeader(STORAGE_CLASS_HEADER, String.class);
            for (Repository target : services.repositories().forJob(run.job.name(), run.job.parameters().get("repositories"))) {
                String name = target.name();
                if (run.copyFailures.containsKey(name)) {
                    continue;
                }
                String unanswered = cleanUpOnce(target, run, services);
                if (unanswered != null) {
                    run.completeIn.remove(name);
                    run.copyFailures.put(name, unanswered);
                    LOG.warn("backup {} of job {}: no copy to repository {}: {}", run.id, run.job.name(), name,
                            unanswered);
                    continue;
                }
                // Each object is copied from where it was stored; one a store step wrote here needs no copy.
                for (Map.Entry<String, String> stored : run.storedKeys.entrySet()) {
                    String key = stored.getKey();
                    if (stored.getValue().equals(name) || run.copiedKeys.getOrDefault(name, java.util.Set.of())
                            .contains(key)) {
                        continue;
                    }
                    Repository source = services.repositories().get(stored.getValue());
                    long started = System.nanoTime();
                    try {
                        copy(source, target, key, storageClass);
                        run.copied(name, key);
                        LOG.info("copied {} from repository {} to repository {} in {} ms", key, source.name(), name,
                                (System.nanoTime() - started) / 1_000_000);
                    } catch (io.stowage.Interruption.Interrupted e) {
                        throw e;
                    } catch (RuntimeException e) {
                        run.completeIn.remove(name);
                        run.copyFailures.put(name, describe(e));
                        LOG.warn("backup {} of job {}: the copy to repository {} failed: {}", run.id, run.job.name(),
                                name, describe(e));
                        break;
                    }
                }
                if (!run.copyFailures.containsKey(name) && run.holdsAll(name) && !run.completeIn.contains(name)) {
                    run.completeIn.add(name);
                }
            }
        }
    }

    /**
     * Before the first copy of a backup to {@code target}: removes what interrupted backups of the job left there
     * (the begin step cleans only the repository the backup is streamed into, so that a remote repository never
     * holds up the local backup). Every call is bounded by the repository's timeouts. Returns why the copy cannot
     * go on when the repository did not answer; any other failure of the clean-up is logged and the copy goes on.
     */
    static String cleanUpOnce(Repository target, BackupRun run, StowageServices services) {
        if (!run.cleanedUpIn.add(target.name())) {
            return null;
        }
        try {
            BeginStep.removeIncomplete(target, run.job.name(), run.id, BeginStep.incompleteBefore(services, target));
            return null;
        } catch (io.stowage.repository.RepositoryTimeoutException e) {
            return e.getMessage();
        } catch (io.stowage.Interruption.Interrupted e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot clean up incomplete backups of job {} in repository {}: {}", run.job.name(),
                    target.name(), describe(e));
            return null;
        }
    }

    /** One copy, its failure as a RepositoryException naming the object and the target. */
    static void copy(Repository source, Repository target, String key, String storageClass) {
        try {
            // One look at the repository first: a missing bucket or an unreachable endpoint is then named as
            // such, rather than showing as whatever the interrupted copy happens to report (a broken pipe).
            target.check();
            target.copy(key, source, storageClass);
        } catch (IOException e) {
            throw new RepositoryException("cannot copy '" + key + "' to repository '" + target.name() + "': "
                    + e.getMessage(), e);
        }
    }

    static String describe(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StowageException) {
                return t.getMessage();
            }
        }
        return Secrets.mask(String.valueOf(cause));
    }

    /**
     * {@code stowage:upload?repository=NAME}: copies the object the store step wrote to that repository under the
     * same key, in the storage class the {@code StowageStorageClass} header names (the job's {@code storageClass};
     * none: the bucket's default). Throws on failure, for the route's doCatch.
     */
    static final class Upload implements Step {
        private final String repository;

        Upload(Map<String, String> parameters) {
            repository = Steps.required(parameters, "repository", "upload");
            Steps.noParameters(parameters, "upload");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = Step.run(exchange);
            if (run.lastObjectKey == null) {
                throw StowageException.usage("stowage:upload needs the object a 'stowage:store' step wrote");
            }
            copy(services.repositories().get(run.lastStoredIn), services.repositories().get(repository),
                    run.lastObjectKey, exchange.getIn().getHeader(STORAGE_CLASS_HEADER, String.class));
            run.copied(repository, run.lastObjectKey);
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
            run.copyFailures.put(repository, describe(cause));
        }


    }
}
