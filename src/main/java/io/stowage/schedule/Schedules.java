package io.stowage.schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;

/** The schedules the loaded routes define: every templated route with {@code job}, {@code type} and {@code cron}. */
public final class Schedules {
    private Schedules() {
    }

    public static List<Schedule> from(CamelContext context) {
        List<Schedule> schedules = new ArrayList<>();
        for (RouteDefinition route : ((ModelCamelContext) context).getRouteDefinitions()) {
            Map<String, String> parameters = new HashMap<>();
            for (Map<String, Object> source : java.util.Arrays.asList(route.getTemplateDefaultParameters(),
                    route.getTemplateParameters())) {
                if (source != null) {
                    source.forEach((k, v) -> parameters.put(k, v == null ? null
                            : context.resolvePropertyPlaceholders(v.toString())));
                }
            }
            if (parameters.get("cron") != null && parameters.get("job") != null && parameters.get("type") != null) {
                Schedule schedule = new Schedule(parameters.get("job"), parameters.get("type"), parameters.get("cron"),
                        parameters.getOrDefault("timeZone", "UTC"), route.getRouteId());
                schedule.expression();
                schedules.add(schedule);
            }
        }
        return schedules;
    }
}
