package io.stowage.runtime;

import io.stowage.Secrets;
import io.stowage.StowageException;

/** Turns a failure while loading the configuration and routes into the one line an operator needs. */
final class ConfigurationErrors {
    private ConfigurationErrors() {
    }

    static StowageException describe(Throwable failure) {
        StowageException own = null;
        Throwable deepest = failure;
        StringBuilder where = new StringBuilder();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof StowageException s && own == null) {
                own = s;
            }
            String message = t.getMessage();
            if (message != null && where.isEmpty() && message.contains("file:")) {
                int start = message.indexOf("file:");
                int end = message.indexOf(' ', start);
                where.append(message, start + 5, end < 0 ? message.length() : end);
            }
            deepest = t;
            if (t.getCause() == t) {
                break;
            }
        }
        String message = own != null ? own.getMessage() : firstLine(deepest.getMessage(), deepest);
        String location = where.isEmpty() ? "" : " (in " + where + ")";
        return StowageException.usage("invalid configuration: " + Secrets.mask(message) + location);
    }

    private static String firstLine(String message, Throwable t) {
        if (message == null || message.isBlank()) {
            return t.getClass().getSimpleName();
        }
        return message.strip().split("\\R", 2)[0];
    }
}
