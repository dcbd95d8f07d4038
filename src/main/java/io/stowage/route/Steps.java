package io.stowage.route;

import io.stowage.StowageException;
import java.util.Map;
import java.util.function.Function;

/** The steps {@code stowage:} offers, by name, and the parameter checks they share. */
final class Steps {
    private static final Map<String, Function<Map<String, String>, Step>> STEPS = Map.ofEntries(
            Map.entry("begin", BeginStep::new),
            Map.entry("wal-ship", WalShipStep::new),
            Map.entry("compress", FilterSteps.Compress::new),
            Map.entry("checksum", FilterSteps.Checksum::new),
            Map.entry("encrypt", FilterSteps.Encrypt::new),
            Map.entry("store", StoreStep::new),
            Map.entry("copy", CopySteps.Copy::new),
            Map.entry("upload", CopySteps.Upload::new),
            Map.entry("copied", CopySteps.Copied::new),
            Map.entry("copy-failed", CopySteps.CopyFailed::new),
            Map.entry("catalog", CatalogStep::new),
            Map.entry("started", ServiceSteps.Started::new),
            Map.entry("outcome", ServiceSteps.Outcome::new),
            Map.entry("alert-plan", ServiceSteps.AlertPlan::new),
            Map.entry("slack-message", ServiceSteps.SlackMessage::new),
            Map.entry("pagerduty-event", ServiceSteps.PagerDutyEvent::new),
            Map.entry("alert-send", AlertSendStep::new),
            Map.entry("alert-failed", ServiceSteps.AlertFailed::new),
            Map.entry("staleness", ServiceSteps.Staleness::new),
            Map.entry("verify-all", ServiceSteps.VerifyAll::new),
            Map.entry("catch-up", CatchUpStep::new),
            Map.entry("expire", ExpireSteps.AfterBackup::new),
            Map.entry("expire-all", ExpireSteps.All::new));

    private Steps() {
    }

    static Step create(String name, Map<String, String> parameters, io.stowage.engine.Engines engines) {
        Function<Map<String, String>, Step> factory = STEPS.get(name);
        if (factory == null) {
            Map.Entry<io.stowage.engine.Engine, String> source = engines.bySourceStep(name);
            if (source != null) {
                return new SourceStep(name, source.getKey(), source.getValue(), parameters);
            }
            java.util.Set<String> known = new java.util.TreeSet<>(STEPS.keySet());
            engines.all().forEach(engine -> known.addAll(engine.sourceSteps().keySet()));
            throw StowageException.usage("unknown step 'stowage:" + name + "'; steps: " + String.join(", ", known));
        }
        return factory.apply(parameters);
    }

    static String required(Map<String, String> parameters, String key, String step) {
        String value = parameters.remove(key);
        if (value == null || value.isBlank()) {
            throw StowageException.usage("stowage:" + step + " needs the parameter '" + key + "'");
        }
        return value;
    }

    static void noParameters(Map<String, String> parameters, String step) {
        if (!parameters.isEmpty()) {
            throw StowageException.usage("stowage:" + step + " has no parameter " + parameters.keySet());
        }
    }

    static int integer(String value, String name, int min, int max, int fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw StowageException.usage("parameter " + name + "=" + value + " must be a number from " + min + " to " + max);
    }
}
