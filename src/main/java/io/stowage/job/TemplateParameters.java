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
