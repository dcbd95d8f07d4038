package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.engine.LogArchive;
import io.stowage.job.Job;
import io.stowage.pipeline.Codec;
import io.stowage.repository.Repository;
import io.stowage.services.LogFiles;
import io.stowage.services.StowageServices;
import java.io.File;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:wal-ship?job=NAME&codec=zstd&level=1&repositories=}: stores one spooled log file (the body: a WAL
 * segment or timeline history file for PostgreSQL; what counts as a log file is the job's engine's to say)
 * compressed under {@code <job>/<archive directory>/} in the first of the job's repositories, then copies it to each
 * other one, each followed by its {@code .sha256} checksum file. The repositories are those {@code repositories}
 * names; blank: those of the backup job of the same name. It returns only when every copy is written; the file
 * consumer deletes the spooled file after that, and leaves it for the next poll when anything failed, so no log file
 * is deleted before its copies are confirmed.
 *
 * <p>A failed attempt is retried on the same file ({@link LogShipping}: the route's poll strategy waits
 * {@code retryDelay} ms, doubled per failure up to {@code retryMaxDelay}), resuming where it stopped: the file is
 * compressed and written to the first repository once, and each copy that was made is not made again.
 */
final class WalShipStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(WalShipStep.class);

    private final String job;
    private final Codec codec;
    private final int level;
    private final String repositories;
    private final java.time.Duration retryDelay;
    private final java.time.Duration retryMaxDelay;
    private volatile boolean cleaned;
    /** This route's shipping state: the file it is on, its failures; shared with the route's poll strategy. */
    private final LogShipping.Route state = new LogShipping.Route();

    WalShipStep(Map<String, String> parameters) {
        job = Steps.required(parameters, "job", "wal-ship");
        codec = Codec.of(parameters.getOrDefault("codec", "zstd"));
        level = codec.level(parameters.remove("level"));
        parameters.remove("codec");
        String named = parameters.remove("repositories");
        repositories = named == null ? "" : named.strip();
        retryDelay = java.time.Duration.ofMillis(Steps.integer(parameters.remove("retryDelay"), "retryDelay", 1,
                3_600_000, 1000));
        retryMaxDelay = java.time.Duration.ofMillis(Steps.integer(parameters.remove("retryMaxDelay"),
                "retryMaxDelay", 1, 86_400_000, 60_000));
        Steps.noParameters(parameters, "wal-ship");
    }

    @Override
    public void check(StowageServices services) {
        if (services != null && !repositories.isEmpty()) {
            services.logRepositories(job, repositories);
        }
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        File file = exchange.getIn().getBody(File.class);
        if (file == null) {
            throw StowageException.usage("stowage:wal-ship needs a file body: use it after a file: consumer");
        }
        Job owner = services.jobs().get(job);
        LogArchive archive = services.engines().get(owner.engine()).logArchive().orElseThrow(() ->
                StowageException.usage("job '" + job + "' (" + owner.engine() + ") keeps no log archive: "
                        + "stowage:wal-ship ships the log files of jobs that have one"));
        String prefix = job + "/" + archive.directory() + "/";
        List<Repository> targets = services.logRepositories(job, repositories);
        if (!cleaned) {
            // The file consumer is this route's only writer: temporaries left in the archive, in any of its
            // repositories, are from a killed run.
            for (Repository target : targets) {
                target.cleanUpInterruptedWrites(prefix);
            }
            cleaned = true;
        }
        String name = file.getName();
        if (!archive.isLogFile(name)) {
            LOG.warn("ignoring {} in the log spool of job {}: not a log file of its engine", name, job);
            return;
        }
        LogShipping shipping = exchange.getContext().getRegistry().lookupByNameAndType(LogShipping.BEAN,
                LogShipping.class);
        if (shipping != null && exchange.getFromEndpoint() != null) {
            shipping.attach(exchange.getFromEndpoint(), state);
        }
        long stored;
        try {
            stored = LogFiles.store(targets, services.encryption(), prefix, file, codec, level, true, state.progress);
        } catch (io.stowage.Interruption.Interrupted e) {
            throw e;
        } catch (Exception e) {
            services.metrics().logShipFailed(job);
            state.failed(job, name, CopySteps.describe(e), retryDelay, retryMaxDelay);
            throw e;
        }
        state.shipped(job, name);
        services.metrics().walArchived(job, stored);
        LOG.debug("archived {} of job {}", name, job);
    }
}
