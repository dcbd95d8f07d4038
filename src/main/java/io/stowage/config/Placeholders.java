package io.stowage.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Why a {@code {{...}}} placeholder could not be resolved, in the operator's words, from Camel's exception. Only
 * the name of an environment variable or system property is repeated: any other text of the value may be a secret
 * (a password that happens to hold braces), and Camel's own message quotes the whole value.
 */
public final class Placeholders {
    /** Camel names what it could not resolve first: {@code Property with key [env:NAME] ...}. */
    private static final Pattern KEY = Pattern.compile("\\[(env|sys):([A-Za-z0-9_.-]+)]");

    private Placeholders() {
    }

    /** What is missing ({@code environment variable X is not set}) and, apart, the {@code HINT: ...} to fix it. */
    public record Problem(String missing, String hint) {
    }

    public static Problem of(RuntimeException unresolved) {
        Matcher key = KEY.matcher(String.valueOf(unresolved.getMessage()));
        if (!key.find()) {
            return new Problem("a {{...}} placeholder in it names no property that is set", "HINT: set that "
                    + "property, or give the placeholder a default: {{name:default}}");
        }
        String what = key.group(1).equals("env") ? "environment variable " : "system property ";
        return new Problem(what + key.group(2) + " is not set", "HINT: set it, or give the placeholder a default: {{"
                + key.group(1) + ":" + key.group(2) + ":default}}");
    }
}
