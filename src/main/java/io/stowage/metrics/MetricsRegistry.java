package io.stowage.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;

/**
 * The Prometheus registry behind /observe/metrics, shared by Camel's route metrics and Stowage's own. Label names
 * follow Prometheus conventions (snake_case): Camel's {@code routeId} is exposed as {@code route_id}, so that
 * {@code promtool check metrics} accepts the whole exposition;
 * a meter registered without help text gets one.
 */
public final class MetricsRegistry {
    /** The name under which camel-micrometer-prometheus looks for an existing registry. */
    public static final String BEAN = "metricsRegistry";

    private MetricsRegistry() {
    }

    public static PrometheusMeterRegistry create() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                List<Tag> tags = id.getTags().stream().map(t -> Tag.of(snakeCase(t.getKey()), t.getValue())).toList();
                String description = id.getDescription() != null ? id.getDescription()
                        : "Camel metric " + id.getName().replace('.', ' ');
                return new Meter.Id(id.getName(), io.micrometer.core.instrument.Tags.of(tags), id.getBaseUnit(),
                        description, id.getType());
            }
        });
        return registry;
    }

    static String snakeCase(String name) {
        return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace('.', '_').replace('-', '_')
                .toLowerCase(java.util.Locale.ROOT);
    }
}
