package io.stowage.cli;

import io.stowage.audit.AuditLog;
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
        long started = System.nanoTime();
        StowageRuntime runtime = startRuntime(true);
        AuditLog audit = runtime.services().audit();
        audit.record(new AuditLog.Entry("service-start", null, null, "success", null, null));
        LoggerFactory.getLogger(RunCommand.class).info("stowage started with jobs {} and schedules {}",
                runtime.services().jobs().all().stream().map(j -> j.name()).toList(),
                runtime.services().schedules().schedules().stream().map(s -> s.routeId() + " '" + s.cron() + "' "
                        + s.timeZone()).toList());
        runtime.services().schedules().catchUp(runtime.context().createProducerTemplate());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LoggerFactory.getLogger(RunCommand.class).info("stopping: in-flight backups get up to "
                    + runtime.context().getShutdownStrategy().getTimeout() + " s to finish");
            runtime.close();
            audit.record(new AuditLog.Entry("service-stop", null, null, "success",
                    java.time.Duration.ofNanos(System.nanoTime() - started), null));
            LoggerFactory.getLogger(RunCommand.class).info("stopped");
            stopped.countDown();
        }, "stowage-shutdown"));
        stopped.await();
        return 0;
    }
}
