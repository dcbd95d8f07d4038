package io.stowage.route;

import io.stowage.services.StowageServices;
import org.apache.camel.Exchange;

/** One step of a backup route, used in YAML as {@code stowage:<name>?<parameters>}. */
interface Step {
    void process(Exchange exchange, StowageServices services) throws Exception;

    /**
     * Checks the step's parameters against the configuration when its route is created (a repository that is not
     * configured), so that {@code check} finds it; {@code services} is null where no configuration is loaded.
     */
    default void check(StowageServices services) {
    }

    static BackupRun run(Exchange exchange) {
        BackupRun run = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
        if (run == null) {
            throw io.stowage.StowageException.usage("route '" + exchange.getFromRouteId()
                    + "' uses a backup step before 'stowage:begin'");
        }
        return run;
    }
}
