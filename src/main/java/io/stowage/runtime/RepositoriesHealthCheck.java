package io.stowage.runtime;
import io.stowage.services.StowageServices;

import io.stowage.repository.Repository;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Health of what backups need: every repository reachable and writable, and the Quartz scheduler running. Shown
 * at /observe/health; a repository is probed at most every 30 seconds, so a scrape never waits on S3 for long.
 */
public final class RepositoriesHealthCheck extends AbstractHealthCheck {
    private static final Duration CACHE = Duration.ofSeconds(30);

    private final StowageServices services;
    private final CamelContext context;
    private volatile long checkedAt;
    private volatile Map<String, String> failures = Map.of();

    public RepositoriesHealthCheck(StowageServices services, CamelContext context) {
        super("stowage", "stowage");
        this.services = services;
        this.context = context;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        long now = System.nanoTime();
        if (checkedAt == 0 || now - checkedAt > CACHE.toNanos()) {
            Map<String, String> found = new LinkedHashMap<>();
            for (Repository repository : services.repositories().all()) {
                try {
                    repository.check();
                } catch (Exception e) {
                    found.put("repository." + repository.name(), e.getMessage());
                }
            }
            failures = found;
            checkedAt = now;
        }
        Map<String, String> problems = new LinkedHashMap<>(failures);
        String scheduler = schedulerProblem();
        if (scheduler != null) {
            problems.put("scheduler", scheduler);
        }
        problems.forEach(builder::detail);
        if (problems.isEmpty()) {
            builder.up();
        } else {
            builder.message(String.join("; ", problems.values()));
            builder.down();
        }
    }

    private String schedulerProblem() {
        try {
            org.apache.camel.component.quartz.QuartzComponent quartz =
                    context.getComponent("quartz", org.apache.camel.component.quartz.QuartzComponent.class);
            if (quartz == null || quartz.getScheduler() == null) {
                return "the scheduler is not running";
            }
            org.quartz.Scheduler scheduler = quartz.getScheduler();
            if (!scheduler.isStarted() || scheduler.isShutdown() || scheduler.isInStandbyMode()) {
                return "the scheduler is not running";
            }
            return null;
        } catch (Exception e) {
            return "the scheduler cannot be queried: " + e.getMessage();
        }
    }

    /** Clears the cached repository probes (for tests and after a configuration change). */
    public void refresh() {
        checkedAt = 0;
    }
}
