package io.stowage.route;

import io.stowage.copies.CatchUp;
import io.stowage.lock.ExclusiveLock;
import io.stowage.services.StowageServices;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:catch-up?intervalSeconds=60&logIntervalSeconds=21600}: one round of the service's catch-up of
 * copies ({@link CatchUp}): every complete backup, and every log file, that one of a job's repositories holds is
 * copied to each of the job's repositories lacking it, and {@code stowage_copies_missing} is updated. The round is
 * skipped while another runs ({@code stowage sync}); a job whose backup runs waits for the next round.
 * {@code intervalSeconds=0}: nothing is done.
 *
 * <p>The round runs on a thread of its own, not on the route's: the step starts it and returns (a round still running
 * when the timer fires again is left to finish). A stop of the service therefore never waits for a round that waits
 * on a repository that does not answer, and is not taken for a backup cut short: the round is abandoned (its thread
 * interrupted; every copy is atomic, so nothing half-written is left that could be listed), and the next service
 * copies what it did not.
 */
final class CatchUpStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(CatchUpStep.class);

    private final long intervalSeconds;
    private final Duration logInterval;
    private CatchUp catchUp;
    private java.util.concurrent.ExecutorService rounds;
    private java.util.concurrent.Future<?> running;

    CatchUpStep(Map<String, String> parameters) {
        String interval = parameters.remove("intervalSeconds");
        String logs = parameters.remove("logIntervalSeconds");
        intervalSeconds = interval == null ? 60 : io.stowage.config.Settings.wholeNumber(interval, 0, Long.MAX_VALUE);
        logInterval = Duration.ofSeconds(logs == null ? 21_600
                : io.stowage.config.Settings.wholeNumber(logs, 0, Long.MAX_VALUE / 1_000_000_000L));
        Steps.noParameters(parameters, "catch-up");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        if (intervalSeconds == 0) {
            return;
        }
        synchronized (this) {
            if (running != null && !running.isDone()) {
                LOG.debug("catch-up round still running: this tick is skipped");
                return;
            }
            if (rounds == null) {
                rounds = java.util.concurrent.Executors.newSingleThreadExecutor(task -> {
                    Thread thread = new Thread(task, "stowage-catch-up");
                    thread.setDaemon(true);
                    return thread;
                });
                java.util.concurrent.ExecutorService owned = rounds;
                exchange.getContext().addService(new org.apache.camel.support.service.ServiceSupport() {
                    @Override
                    protected void doStop() {
                        owned.shutdownNow();
                    }
                }, true, true);
            }
            running = rounds.submit(() -> round(services));
        }
    }

    private void round(StowageServices services) {
        try {
            java.nio.file.Path home = services.repositories().home().root();
            CatchUp.Report report;
            synchronized (this) {
                if (catchUp == null) {
                    catchUp = new CatchUp(services, job -> JobLock.tryAcquire(home, job), logInterval);
                }
            }
            Optional<ExclusiveLock> lock = CatchUp.lock(home, Duration.ZERO);
            if (lock.isEmpty()) {
                LOG.debug("catch-up round skipped: another catch-up of copies (stowage sync) is running");
                return;
            }
            try (ExclusiveLock held = lock.get()) {
                report = catchUp.run(new CatchUp.Options(null, null, false, false));
            }
            report.missingBackups().forEach((job, counts) -> counts.forEach((repository, n) ->
                    services.metrics().copiesMissing(job, repository, n)));
            report.missingLogs().forEach((job, counts) -> counts.forEach((repository, n) ->
                    services.metrics().logFilesMissing(job, repository, n)));
            report.failures().forEach(line -> LOG.debug("catch-up: {}", line));
        } catch (RuntimeException | java.io.IOException e) {
            if (!Thread.currentThread().isInterrupted()) {
                LOG.warn("catch-up round failed: {}", CopySteps.describe(e));
            }
        }
    }
}
