package io.stowage.route;

import io.stowage.services.StowageServices;
import java.util.HashMap;
import java.util.Map;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultComponent;
import org.apache.camel.support.DefaultEndpoint;
import org.apache.camel.support.DefaultProducer;

/**
 * The {@code stowage:} component: the backup steps operators compose in routes/ ({@code stowage:begin},
 * {@code stowage:pg-dump}, {@code stowage:compress}, ...). Each endpoint checks its parameters when the route is
 * loaded, so a misspelt codec fails {@code check} and the build, not the night's backup.
 */
public final class StowageComponent extends DefaultComponent {

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) {
        Map<String, String> values = new HashMap<>();
        parameters.forEach((key, value) -> values.put(key, value == null ? null : value.toString()));
        parameters.clear();
        StowageServices services = getCamelContext().getRegistry().lookupByNameAndType(StowageServices.BEAN,
                StowageServices.class);
        if (services == null) {
            throw new IllegalStateException("the stowage: component needs the bean '" + StowageServices.BEAN + "'");
        }
        Step step = Steps.create(remaining, values, services.engines());
        step.check(services);
        return new StepEndpoint(uri, this, step);
    }

    private static final class StepEndpoint extends DefaultEndpoint {
        private final Step step;

        StepEndpoint(String uri, StowageComponent component, Step step) {
            super(uri, component);
            this.step = step;
        }

        @Override
        public Producer createProducer() {
            return new DefaultProducer(this) {
                @Override
                public void process(Exchange exchange) throws Exception {
                    StowageServices services = getCamelContext().getRegistry()
                            .lookupByNameAndType(StowageServices.BEAN, StowageServices.class);
                    step.process(exchange, services);
                }
            };
        }

        @Override
        public Consumer createConsumer(Processor processor) {
            throw new UnsupportedOperationException("stowage: steps are producers only: use them in 'to'");
        }
    }
}
