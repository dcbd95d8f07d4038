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

    /** The job's retention parameters: docs/retention.md. */
    public static final java.util.List<String> RETENTION_PARAMETERS =
            java.util.List.of("retention", "retentionDiff", "retentionIncr", "logRetention");

    /** The job's own retention policy ({@code retention}), for every repository of the job; empty when not set. */
    public java.util.Optional<io.stowage.config.RetentionPolicy> retention() {
        String value = parameter("retention", null);
        if (value == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(io.stowage.config.RetentionPolicy.parse(value));
        } catch (IllegalArgumentException e) {
            throw StowageException.usage("job '" + name + "': retention '" + io.stowage.TerminalText.line(value) + "' "
                    + e.getMessage());
        }
    }

    /**
     * A retention bound in days ({@code retentionDiff}, {@code retentionIncr}, {@code logRetention}); empty when not
     * set.
     */
    public java.util.OptionalInt retentionDays(String parameter) {
        String value = parameter(parameter, null);
        if (value == null) {
            return java.util.OptionalInt.empty();
        }
        try {
            return java.util.OptionalInt.of(io.stowage.config.RetentionPolicy.days(value));
        } catch (IllegalArgumentException e) {
            throw StowageException.usage("job '" + name + "': " + parameter + " '" + io.stowage.TerminalText.line(value)
                    + "' " + e.getMessage());
        }
    }

    public String describe() {
        return name + " (" + engine + " " + method + ")";
    }
}
