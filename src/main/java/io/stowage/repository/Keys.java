package io.stowage.repository;

import io.stowage.StowageException;
import java.util.regex.Pattern;

/** Checks repository keys, so that no key can climb out of a repository's root or prefix. */
public final class Keys {
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");

    private Keys() {
    }

    /** Returns {@code key} if each '/'-separated segment is a plain name; throws otherwise. */
    public static String check(String key) {
        if (key == null || key.isEmpty()) {
            throw new StowageException("empty repository key");
        }
        for (String segment : key.split("/", -1)) {
            if (!SEGMENT.matcher(segment).matches()) {
                throw new StowageException("invalid repository key '" + key + "'");
            }
        }
        return key;
    }

    /** A prefix may be empty or end with '/'; its segments follow the same rule as a key's. */
    public static String checkPrefix(String prefix) {
        if (prefix == null || prefix.isEmpty()) {
            return "";
        }
        String trimmed = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        check(trimmed);
        return prefix;
    }
}
