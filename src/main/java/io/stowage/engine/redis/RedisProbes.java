package io.stowage.engine.redis;

import io.stowage.StowageException;
import io.stowage.job.Probe;
import java.util.ArrayList;
import java.util.List;

/**
 * Operator probes of a Redis job: {@code NAME: COMMAND args => CONDITION}, where the command is split on whitespace
 * and a double-quoted argument may hold spaces ({@code \"} and {@code \\} inside quotes). The reply is the probe's
 * value: an integer or a string is the value, nil or an empty array is no value ({@code empty}), an array's first
 * element is its value.
 */
final class RedisProbes {
    private RedisProbes() {
    }

    /** Checks every probe of {@code job} (a usage error naming the probe when one cannot be split). */
    static void validate(String job, List<Probe> probes) {
        for (Probe probe : probes) {
            try {
                arguments(probe.sql());
            } catch (IllegalArgumentException e) {
                throw StowageException.usage("job '" + job + "': probe '" + probe.name() + "' " + e.getMessage()
                        + ": write NAME: COMMAND args => CONDITION");
            }
        }
    }

    static List<String> arguments(String command) {
        List<String> args = new ArrayList<>();
        StringBuilder current = null;
        boolean quoted = false;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (quoted) {
                if (c == '\\' && i + 1 < command.length()) {
                    current.append(command.charAt(++i));
                } else if (c == '"') {
                    quoted = false;
                    if (i + 1 < command.length() && !Character.isWhitespace(command.charAt(i + 1))) {
                        throw new IllegalArgumentException("has text right after a closing quote");
                    }
                } else {
                    current.append(c);
                }
            } else if (Character.isWhitespace(c)) {
                if (current != null) {
                    args.add(current.toString());
                    current = null;
                }
            } else if (c == '"' && current == null) {
                current = new StringBuilder();
                quoted = true;
            } else {
                if (current == null) {
                    current = new StringBuilder();
                }
                current.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("has an unclosed double quote");
        }
        if (current != null) {
            args.add(current.toString());
        }
        if (args.isEmpty()) {
            throw new IllegalArgumentException("has no command");
        }
        return args;
    }
}
