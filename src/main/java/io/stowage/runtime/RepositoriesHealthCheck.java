package io.stowage.runtime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Health of what backups need: every repository reachable and writable, and the Quartz scheduler running. Shown
 * at /observe/health. The repositories' state is what the {@link RepositoryProber} found in the background: this
 * check never calls a repository, so it answers at once whatever they do.
 */
public final class RepositoriesHealthCheck extends AbstractHealthCheck {
    private final CamelContext context;
    private final RepositoryProber prober;

    public RepositoriesHealthCheck(RepositoryProber prober, CamelContext context) {
        super("stowage", "stowage");
        this.prober = prober;
        this.context = context;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        Map<String, String> problems = new LinkedHashMap<>();
        for (RepositoryProber.Status status : prober.statuses()) {
            String prefix = "repository." + status.repository();
            if (status.checkedAt() != null) {
                builder.detail(prefix + ".checked", status.checkedAt().toString());
            }
            builder.detail(prefix + ".check-seconds", String.format(java.util.Locale.ROOT, "%.3f",
                    status.took().toNanos() / 1e9));
            builder.detail(prefix + ".up", status.up());
            if (!status.up()) {
                problems.put(prefix, status.message());
            }
        }
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

    /** Checks the repositories again now, in the background (for tests and after a configuration change). */
    public void refresh() {
        prober.probeNow();
    }
}
