package io.stowage.job;

import io.stowage.StowageException;
import java.util.Map;
import java.util.TreeMap;

/**
 * A backup job: one templated route in routes/, with the parameters the operator gave it (merged over the
 * template's defaults, placeholders resolved). Engine code reads its settings here, so that a restore, a check or a
 * verification uses exactly the connection the backup route uses.
 */
public record Job(String name, String engine, String method, String routeId, Map<String, String> parameters) {

    public Job {
        parameters = java.util.Collections.unmodifiableMap(new TreeMap<>(parameters));
    }

    /** A parameter, or {@code fallback} when it is absent or blank. */
    public String parameter(String key, String fallback) {
        String value = parameters.get(key);
        return value == null || value.isBlank() ? fallback : value.trim();
    }

    /** A parameter the job cannot run without. */
    public String required(String key) {
        String value = parameter(key, null);
        if (value == null) {
            throw StowageException.usage("job '" + name + "' has no '" + key + "' parameter; HINT: set it in the job's"
                    + " templatedRoute in routes/");
        }
        return value;
    }

    /** The default recovery time objective: four hours. */
    public static final long DEFAULT_RTO_SECONDS = 14400;

    /** The operator probes a verification runs in the restored database ({@code probes} parameter). */
    public java.util.List<Probe> probes() {
        return Probe.of(this);
    }

    /**
     * The recovery time objective in seconds ({@code rtoSeconds}, four hours when absent): a verification whose
     * restore takes longer reports the objective as missed.
     */
    public long rtoSeconds() {
        String value = parameter("rtoSeconds", null);
        if (value == null) {
            return DEFAULT_RTO_SECONDS;
        }
        try {
            long seconds = Long.parseLong(value);
            if (seconds >= 0) {
                return seconds;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw StowageException.usage("job '" + name + "': rtoSeconds '" + value + "' is not a number of seconds "
                + "(0 or more)");
    }

    public String describe() {
        return name + " (" + engine + " " + method + ")";
    }
}
