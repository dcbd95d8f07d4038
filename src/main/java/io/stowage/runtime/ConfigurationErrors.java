package io.stowage.runtime;

import io.stowage.Secrets;
import io.stowage.StowageException;

/** Turns a failure while loading the configuration and routes into the one line an operator needs. */
final class ConfigurationErrors {
    /** How Camel's YAML loader names the place of an error: {@code in file:/path/x.camel.yaml, line 4, column 5}. */
    private static final java.util.regex.Pattern LOCATION =
            java.util.regex.Pattern.compile("file:([^,\\s]+)(?:, line (\\d+))?");

    private ConfigurationErrors() {
    }

    static StowageException describe(Throwable failure) {
        StowageException own = null;
        Throwable deepest = failure;
        String where = null;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof StowageException s && own == null) {
                own = s;
            }
            java.util.regex.Matcher location = t.getMessage() == null ? null : LOCATION.matcher(t.getMessage());
            if (where == null && location != null && location.find()) {
                where = location.group(1) + (location.group(2) == null ? "" : ", line " + location.group(2));
            }
            deepest = t;
            if (t.getCause() == t) {
                break;
            }
        }
        String message = own != null ? own.getMessage() : firstLine(deepest.getMessage(), deepest);
        String location = where == null ? "" : " (in " + where + ")";
        return StowageException.usage("invalid configuration: " + Secrets.mask(message) + location);
    }

    private static String firstLine(String message, Throwable t) {
        if (message == null || message.isBlank()) {
            return t.getClass().getSimpleName();
        }
        return message.strip().split("\\R", 2)[0];
    }
}
