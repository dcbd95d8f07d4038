package io.stowage.cli;

import io.stowage.runtime.StowageService;
import picocli.CommandLine.Command;

/**
 * {@code run}: the service. Runs until SIGTERM, SIGINT or SIGHUP, then stops cleanly and exits 0; 1 when the stop
 * cut in-flight backups short.
 */
@Command(name = "run", description = "Run the service (schedules, retries, alerts, metrics, health) until stopped "
        + "(SIGTERM or Ctrl-C).")
final class RunCommand extends BaseCommand {
    @Override
    public Integer call() throws InterruptedException {
        top.configureLogging(true);
        try (io.stowage.Interruption.ServiceStop stop = io.stowage.Interruption.serviceStop()) {
            StowageService service = StowageService.start(top.config);
            // Any other end of the JVM (System.exit elsewhere, a signal the JVM keeps) still stops the service cleanly.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    service.close();
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(RunCommand.class).error("{}", io.stowage.Failures.describe(e));
                } finally {
                    io.stowage.pipeline.ExternalProcess.stopAll();
                }
            }, "stowage-shutdown"));
            stop.await();
            service.close(); // a stop that cut backups short throws: one error line, exit status 1
            return 0;
        }
    }
}
