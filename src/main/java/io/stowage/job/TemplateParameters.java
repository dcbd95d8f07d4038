package io.stowage.job;

import java.util.HashMap;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.model.RouteDefinition;

/**
 * The parameters a templated route was made with: the template's defaults, overridden by the instance's values,
 * with property placeholders resolved. Jobs, schedules and WAL archives are all read this way.
 */
public final class TemplateParameters {
    private TemplateParameters() {
    }

    public static Map<String, String> of(CamelContext context, RouteDefinition route) {
        Map<String, String> parameters = new HashMap<>();
        merge(context, parameters, route.getTemplateDefaultParameters());
        merge(context, parameters, route.getTemplateParameters());
        return parameters;
    }

    /**
     * A whole-number parameter ({@code fallback} when absent or blank), at least {@code min}: anything else is a
     * configuration error naming the route, the parameter and where it is set, never a bare NumberFormatException.
     */
    public static long number(CamelContext context, RouteDefinition route, Map<String, String> parameters, String name,
                              long fallback, long min) {
        String value = parameters.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return io.stowage.config.Settings.wholeNumber(value, min, Long.MAX_VALUE);
        } catch (IllegalArgumentException e) {
            String where = context.getPropertiesComponent()
                    .resolveProperty(io.stowage.runtime.RouteSources.DIRECTORY_PROPERTY)
                    .flatMap(dir -> io.stowage.runtime.RouteSources.locateParameter(java.nio.file.Path.of(dir),
                            route.getRouteId(), name))
                    .map(found -> " (" + found + ")").orElseGet(() -> JobRegistry.location(context, route));
            throw io.stowage.StowageException.usage("invalid configuration: templated route '" + route.getRouteId()
                    + "'" + where + ": " + name + " = " + value.strip() + ": " + e.getMessage());
        }
    }

    private static void merge(CamelContext context, Map<String, String> into, Map<String, Object> from) {
        if (from == null) {
            return;
        }
        from.forEach((key, value) -> {
            if (value != null) {
                into.put(key, context.resolvePropertyPlaceholders(value.toString()));
            }
        });
    }
}
