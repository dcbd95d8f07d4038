package io.stowage.cli;

import io.stowage.runtime.StowageService;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;

/** {@code run}: the service. Runs until SIGTERM or SIGINT, then stops cleanly. */
@Command(name = "run", description = "Run the service (schedules, retries, alerts, metrics, health) until stopped "
        + "(SIGTERM or Ctrl-C).")
final class RunCommand extends BaseCommand {
    @Override
    public Integer call() throws InterruptedException {
        top.configureLogging(true);
        CountDownLatch stopped = new CountDownLatch(1);
        StowageService service = StowageService.start(top.config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            stopped.countDown();
        }, "stowage-shutdown"));
        stopped.await();
        return 0;
    }
}
