package io.stowage.runtime;
import io.stowage.config.RouteSources;

import io.stowage.Secrets;
import io.stowage.StowageException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns a failure while loading the configuration and routes into the one line an operator needs. */
final class ConfigurationErrors {
    /** How the YAML parser names the place of an error: {@code in file:/path/x.camel.yaml, line 4, column 5}. */
    private static final Pattern LOCATION = Pattern.compile("file:([^,\\s]+), line (\\d+)");
    /** How Camel names the route that failed. */
    private static final Pattern ROUTE = Pattern.compile("Failed to (?:start|create) route:? ([^\\s]+)");

    private ConfigurationErrors() {
    }

    static StowageException describe(Throwable failure, Path routesDirectory) {
        StowageException own = null;
        List<String> messages = new ArrayList<>();
        String where = null;
        String route = null;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StowageException s && own == null) {
                own = s;
            }
            String text = t.getMessage();
            if (text == null) {
                continue;
            }
            messages.add(text);
            Matcher location = LOCATION.matcher(text);
            while (location.find()) {
                where = location.group(1) + ", line " + location.group(2); // the last mark is where the parser stopped
            }
            Matcher failed = ROUTE.matcher(text);
            if (route == null && failed.find()) {
                route = failed.group(1);
            }
        }
        if (where == null && route != null) {
            where = RouteSources.locate(routesDirectory, route).orElse(null);
        }
        String message;
        if (own != null) {
            message = own.getMessage();
        } else if (messages.isEmpty()) {
            message = failure.getClass().getSimpleName();
        } else {
            message = summary(messages.get(messages.size() - 1));
            if (messages.size() >= 2) {
                // The wrapper just above the root cause often names the value at fault ("CronExpression 'x' is invalid.").
                String above = messages.get(messages.size() - 2).strip();
                if (above.length() < 200 && !above.contains("Failed to") && !above.contains("file:")
                        && !above.contains("\n") && !above.endsWith(message) && !message.contains(above)) {
                    message = above.replaceAll("[.:]+$", "") + ": " + message;
                }
            }
            if (route != null) {
                message = "route '" + route + "': " + message;
            }
        }
        if (message.contains("because \"value\" is null")) {
            message = "a parameter of a templated route has a name but no value; HINT: give every '- name:' a "
                    + "'value:' line";
        }
        String location = where == null || message.contains(where) ? "" : " (in " + where + ")";
        return StowageException.usage("invalid configuration: " + Secrets.mask(message) + location, failure);
    }

    /** The lines of a parser message that say what is wrong, without its excerpts and marks. */
    private static String summary(String message) {
        List<String> parts = new ArrayList<>();
        for (String line : message.split("\\R")) {
            if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                parts.add(line.strip());
            }
        }
        return parts.isEmpty() ? message.strip() : String.join("; ", parts);
    }
}
