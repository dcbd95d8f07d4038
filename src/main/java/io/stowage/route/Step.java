package io.stowage.route;

import io.stowage.services.StowageServices;
import org.apache.camel.Exchange;

/** One step of a backup route, used in YAML as {@code stowage:<name>?<parameters>}. */
interface Step {
    void process(Exchange exchange, StowageServices services) throws Exception;

    static BackupRun run(Exchange exchange) {
        BackupRun run = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
        if (run == null) {
            throw io.stowage.StowageException.usage("route '" + exchange.getFromRouteId()
                    + "' uses a backup step before 'stowage:begin'");
        }
        return run;
    }
}
