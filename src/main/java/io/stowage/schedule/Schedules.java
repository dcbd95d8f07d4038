package io.stowage.schedule;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;

/** The schedules the loaded routes define: every templated route with {@code job}, {@code type} and {@code cron}. */
public final class Schedules {
    private Schedules() {
    }

    /**
     * Reads and checks every schedule: a bad cron expression or time zone is a configuration error (exit 2), and
     * a schedule of a job that does not exist or of a type the job does not support is one too.
     */
    public static List<Schedule> from(CamelContext context, io.stowage.job.JobRegistry jobs,
                                      io.stowage.engine.Engines engines) {
        List<Schedule> schedules = from(context);
        for (Schedule schedule : schedules) {
            io.stowage.job.Job job = jobs.get(schedule.job());
            io.stowage.catalog.BackupType type = io.stowage.catalog.BackupType.of(schedule.type());
            try {
                engines.get(job.engine()).capabilities().requireType(job, type);
            } catch (io.stowage.StowageException e) {
                throw io.stowage.StowageException.usage("schedule '" + schedule.routeId() + "': " + e.getMessage());
            }
        }
        return schedules;
    }

    public static List<Schedule> from(CamelContext context) {
        List<Schedule> schedules = new ArrayList<>();
        for (RouteDefinition route : ((ModelCamelContext) context).getRouteDefinitions()) {
            Map<String, String> parameters = io.stowage.job.TemplateParameters.of(context, route);
            if (parameters.get("cron") != null && parameters.get("job") != null && parameters.get("type") != null) {
                Schedule schedule = new Schedule(parameters.get("job"), parameters.get("type"), parameters.get("cron"),
                        parameters.getOrDefault("timeZone", "UTC"), route.getRouteId());
                String where = io.stowage.job.JobRegistry.location(context, route);
                try {
                    schedule.expression();
                } catch (io.stowage.StowageException e) {
                    throw io.stowage.StowageException.usage(e.getMessage() + where);
                }
                if (!java.util.Set.of(java.util.TimeZone.getAvailableIDs()).contains(schedule.timeZone())) {
                    throw io.stowage.StowageException.usage("schedule '" + route.getRouteId() + "': unknown time zone '"
                            + schedule.timeZone() + "'" + where);
                }
                schedules.add(schedule);
            }
        }
        return schedules;
    }
}
