package io.stowage.job;

import io.stowage.StowageException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An operator probe: a query a verification runs in the restored scratch database, and the condition its answer
 * must meet. Declared in a job's {@code probes} parameter, one per line:
 *
 * <pre>NAME: SQL => CONDITION</pre>
 *
 * CONDITION is {@code > n}, {@code >= n}, {@code = n}, {@code != n}, {@code < n}, {@code <= n} (the first column of
 * the first row, as a number), {@code true} or {@code false} (as a boolean), {@code empty} or {@code not empty} (whether
 * the query returns a row). Blank lines and lines starting with {@code #} are ignored.
 */
public record Probe(String name, String sql, Condition condition) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,62}");
    private static final Pattern COMPARISON = Pattern.compile("(>=|<=|!=|=|>|<)\\s*(-?\\d+(?:\\.\\d+)?)");
    private static final String CONDITIONS = "> n, >= n, = n, != n, < n, <= n, true, false, empty or not empty";

    /** What the answer must be. {@code operator} is one of the comparison operators, or the condition's word. */
    public record Condition(String operator, BigDecimal number) {
        @Override
        public String toString() {
            return number == null ? operator : operator + " " + number.toPlainString();
        }

        /**
         * Whether the answer meets the condition: {@code hasRow} says whether the query returned a row, {@code value}
         * is the first column of the first row as text (null for SQL NULL).
         */
        public boolean test(boolean hasRow, String value) {
            switch (operator) {
                case "empty":
                    return !hasRow;
                case "not empty":
                    return hasRow;
                case "true":
                case "false":
                    return hasRow && value != null && bool(value) == Boolean.valueOf(operator);
                default:
                    BigDecimal actual = number(value);
                    if (!hasRow || actual == null) {
                        return false;
                    }
                    int c = actual.compareTo(number);
                    return switch (operator) {
                        case ">" -> c > 0;
                        case ">=" -> c >= 0;
                        case "=" -> c == 0;
                        case "!=" -> c != 0;
                        case "<" -> c < 0;
                        case "<=" -> c <= 0;
                        default -> throw new IllegalStateException(operator);
                    };
            }
        }

        private static Boolean bool(String value) {
            return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "t", "true", "1", "yes", "on" -> true;
                case "f", "false", "0", "no", "off" -> false;
                default -> null;
            };
        }

        private static BigDecimal number(String value) {
            if (value == null) {
                return null;
            }
            try {
                return new BigDecimal(value.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** The probes of {@code job}'s {@code probes} parameter; a usage error naming the job and the probe if malformed. */
    public static List<Probe> of(Job job) {
        return parse(job.name(), job.parameters().getOrDefault("probes", ""));
    }

    public static List<Probe> parse(String job, String text) {
        List<Probe> probes = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        String[] lines = text == null ? new String[0] : text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            int arrow = line.lastIndexOf("=>");
            String name = colon > 0 ? line.substring(0, colon).strip() : null;
            String where = "job '" + job + "': probe " + (name != null && NAME.matcher(name).matches()
                    ? "'" + name + "'" : "on line " + (i + 1) + " ('" + abbreviate(line) + "')");
            if (colon <= 0 || arrow < colon) {
                throw StowageException.usage(where + " is malformed: write NAME: SQL => CONDITION");
            }
            if (!NAME.matcher(name).matches()) {
                throw StowageException.usage(where + " has an invalid name: use letters, digits, '-' and '_', "
                        + "starting with a letter");
            }
            if (!names.add(name)) {
                throw StowageException.usage(where + " is declared twice");
            }
            String sql = line.substring(colon + 1, arrow).strip();
            if (sql.isEmpty()) {
                throw StowageException.usage(where + " has no SQL: write NAME: SQL => CONDITION");
            }
            if (sql.endsWith(";")) {
                sql = sql.substring(0, sql.length() - 1).strip();
            }
            String condition = line.substring(arrow + 2).strip().replaceAll("\\s+", " ");
            probes.add(new Probe(name, sql, condition(where, condition)));
        }
        return List.copyOf(probes);
    }

    private static Condition condition(String where, String text) {
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        if (List.of("true", "false", "empty", "not empty").contains(lower)) {
            return new Condition(lower, null);
        }
        Matcher m = COMPARISON.matcher(text);
        if (m.matches()) {
            return new Condition(m.group(1), new BigDecimal(m.group(2)));
        }
        throw StowageException.usage(where + " has condition '" + text + "', which is not one of " + CONDITIONS);
    }

    private static String abbreviate(String line) {
        return line.length() <= 40 ? line : line.substring(0, 37) + "...";
    }
}
