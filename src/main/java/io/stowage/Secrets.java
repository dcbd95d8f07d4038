package io.stowage;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The secret values this process knows (passwords, keys, tokens). Every message that leaves the process for a
 * terminal or a log passes through {@link #mask(String)}, so a secret that a tool or a driver echoes back in an
 * error never reaches the operator's screen or a log file.
 */
public final class Secrets {
    private static final Set<String> VALUES = ConcurrentHashMap.newKeySet();
    public static final String MASK = "****";

    private Secrets() {
    }

    public static void register(String value) {
        // Very short values would mask ordinary words; such a secret is not worth hiding anyway.
        if (value != null && value.length() >= 3) {
            VALUES.add(value);
        }
    }

    /** Whether {@code text} holds a known secret. */
    public static boolean contains(String text) {
        if (text == null) {
            return false;
        }
        for (String value : VALUES) {
            if (text.contains(value)) {
                return true;
            }
        }
        return false;
    }

    public static String mask(String text) {
        if (text == null) {
            return null;
        }
        String masked = text;
        for (String value : VALUES) {
            masked = masked.replace(value, MASK);
        }
        return masked;
    }
}
