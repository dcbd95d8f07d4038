package io.stowage.cli;

import io.stowage.runtime.StowageRuntime;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/** {@code run}: the service. Starts the routes and runs until SIGTERM or SIGINT, then stops cleanly. */
@Command(name = "run", description = "Run the service until stopped (SIGTERM or Ctrl-C).")
final class RunCommand extends BaseCommand {
    @Override
    public Integer call() throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        StowageRuntime runtime = startRuntime(true);
        LoggerFactory.getLogger(RunCommand.class).info("stowage started with jobs {}",
                runtime.services().jobs().all().stream().map(j -> j.name()).toList());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LoggerFactory.getLogger(RunCommand.class).info("stopping");
            runtime.close();
            stopped.countDown();
        }, "stowage-shutdown"));
        stopped.await();
        return 0;
    }
}
