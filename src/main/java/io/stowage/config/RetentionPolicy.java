package io.stowage.config;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A retention policy as operators write it (the job parameter {@code retention}, the repository property
 * {@code stowage.repository.<name>.retention}), see docs/retention.md:
 * <ul>
 *   <li>{@code 4}: a count, the newest 4 full backups, each with everything that depends on it;</li>
 *   <li>{@code 30d} (or {@code 8w}, {@code 6m}, {@code 7y}): a window, every backup needed to restore any point of the
 *       last 30 days;</li>
 *   <li>{@code 7d,5w,12m,7y}: grandfather-father-son, the newest full of each of the last 7 days, 5 weeks, 12 months
 *       and 7 years (any of the four may be left out; days, weeks, months and years are UTC calendar periods, weeks
 *       ISO weeks from Monday).</li>
 * </ul>
 */
public sealed interface RetentionPolicy {
    /** What {@link #parse} accepts, for messages. */
    String ACCEPTED = "a number of full backups (4), a window (30d, 8w, 6m or 7y) or grandfather-father-son "
            + "(7d,5w,12m,7y: the newest full of each of the last 7 days, 5 weeks, 12 months and 7 years)";

    /** The policy as written, normalised ({@code 7d,5w,12m,7y}). */
    String text();

    /** The newest {@code fulls} full backups. */
    record Count(int fulls) implements RetentionPolicy {
        @Override
        public String text() {
            return Integer.toString(fulls);
        }
    }

    /** Every point of the last {@code amount} {@code unit}s (d, w, m, y). */
    record Window(int amount, char unit) implements RetentionPolicy {
        @Override
        public String text() {
            return amount + String.valueOf(unit);
        }

        /** Where the window starts, seen at {@code now}: calendar months and years, in UTC. */
        public Instant start(Instant now) {
            java.time.ZonedDateTime at = now.atZone(ZoneOffset.UTC);
            java.time.ZonedDateTime start = switch (unit) {
                case 'd' -> at.minusDays(amount);
                case 'w' -> at.minusWeeks(amount);
                case 'm' -> at.minusMonths(amount);
                default -> at.minusYears(amount);
            };
            return start.toInstant();
        }
    }

    /** Grandfather-father-son: how many of the last days, weeks, months and years keep their newest full. */
    record Generations(int days, int weeks, int months, int years) implements RetentionPolicy {
        @Override
        public String text() {
            StringBuilder text = new StringBuilder();
            append(text, days, 'd');
            append(text, weeks, 'w');
            append(text, months, 'm');
            append(text, years, 'y');
            return text.toString();
        }

        private static void append(StringBuilder text, int n, char unit) {
            if (n > 0) {
                text.append(text.isEmpty() ? "" : ",").append(n).append(unit);
            }
        }
    }

    /**
     * Parses a policy; an {@link IllegalArgumentException} saying what is wrong and {@link #ACCEPTED} otherwise. A
     * single term with a unit is a window; two or more, one per unit, are grandfather-father-son.
     */
    static RetentionPolicy parse(String text) {
        String value = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (value.matches("[0-9]{1,6}")) {
            int n = Integer.parseInt(value);
            if (n < 1) {
                throw new IllegalArgumentException("keeps no backup; it must be " + ACCEPTED);
            }
            return new Count(n);
        }
        Pattern term = Pattern.compile("([0-9]{1,6})([dwmy])");
        String[] parts = value.split("\\s*,\\s*", -1);
        int[] counts = new int[4];
        for (String part : parts) {
            Matcher m = term.matcher(part);
            if (!m.matches()) {
                throw new IllegalArgumentException("is not a policy; it must be " + ACCEPTED);
            }
            int n = Integer.parseInt(m.group(1));
            int slot = "dwmy".indexOf(m.group(2).charAt(0));
            if (n < 1) {
                throw new IllegalArgumentException("'" + part + "' keeps nothing; it must be " + ACCEPTED);
            }
            if (counts[slot] != 0) {
                throw new IllegalArgumentException("gives '" + m.group(2) + "' twice; it must be " + ACCEPTED);
            }
            counts[slot] = n;
        }
        if (parts.length == 1) {
            Matcher m = term.matcher(parts[0]);
            m.matches();
            return new Window(Integer.parseInt(m.group(1)), m.group(2).charAt(0));
        }
        return new Generations(counts[0], counts[1], counts[2], counts[3]);
    }

    /**
     * A number of days ({@code 30} or {@code 30d}) for {@code retentionDiff}, {@code retentionIncr} and
     * {@code logRetention}; an {@link IllegalArgumentException} otherwise.
     */
    static int days(String text) {
        String value = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (!value.matches("[0-9]{1,6}d?")) {
            throw new IllegalArgumentException("is not a number of days (like 14 or 14d)");
        }
        int n = Integer.parseInt(value.endsWith("d") ? value.substring(0, value.length() - 1) : value);
        if (n < 1) {
            throw new IllegalArgumentException("must be at least 1 day");
        }
        return n;
    }
}
