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
        merge(context, route, parameters, route.getTemplateDefaultParameters());
        merge(context, route, parameters, route.getTemplateParameters());
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
            throw io.stowage.StowageException.usage("invalid configuration: templated route '" + route.getRouteId()
                    + "'" + where(context, route, name) + ": " + name + " = " + value.strip() + ": " + e.getMessage());
        }
    }

    /** Where {@code route} sets parameter {@code name}: {@code (FILE, line N)}, or where the route is. */
    private static String where(CamelContext context, RouteDefinition route, String name) {
        return context.getPropertiesComponent()
                .resolveProperty(io.stowage.config.RouteSources.DIRECTORY_PROPERTY)
                .flatMap(dir -> io.stowage.config.RouteSources.locateParameter(java.nio.file.Path.of(dir),
                        route.getRouteId(), name))
                .map(found -> " (" + found + ")").orElseGet(() -> JobRegistry.location(context, route));
    }

    /**
     * Adds {@code from}, placeholders resolved. One that cannot be resolved (an environment variable not set where
     * Stowage runs) is a configuration error naming the route and parameter, never Camel's bare message, which
     * quotes the whole value (perhaps a password).
     */
    private static void merge(CamelContext context, RouteDefinition route, Map<String, String> into,
                              Map<String, Object> from) {
        if (from == null) {
            return;
        }
        from.forEach((key, value) -> {
            if (value != null) {
                try {
                    into.put(key, context.resolvePropertyPlaceholders(value.toString()));
                } catch (IllegalArgumentException unresolved) {
                    io.stowage.config.Placeholders.Problem problem = io.stowage.config.Placeholders.of(unresolved);
                    throw io.stowage.StowageException.usage("invalid configuration: templated route '"
                            + route.getRouteId() + "'" + where(context, route, key) + ": parameter '" + key + "': "
                            + problem.missing() + "; " + problem.hint());
                }
            }
        });
    }
}
