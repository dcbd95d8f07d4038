package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A table named on the command line as {@code [SCHEMA.]NAME}, schema {@code public} when none is given. Each part is
 * either a plain identifier ({@code [A-Za-z_][A-Za-z0-9_$]*}, folded to lower case as PostgreSQL folds unquoted
 * names) or a double-quoted one ({@code "Mixed Case"}, {@code ""} for a quote; no control characters), at most 63
 * characters. The parts kept are PostgreSQL's own names, as the catalog and {@code pg_restore --list} show them.
 */
public record TableName(String schema, String name) {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    public static TableName parse(String text) {
        if (text == null || text.isBlank()) {
            throw StowageException.usage("--table needs a table name: [SCHEMA.]NAME");
        }
        List<String> parts = new ArrayList<>();
        int i = 0;
        while (true) {
            StringBuilder part = new StringBuilder();
            if (i < text.length() && text.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < text.length()) {
                    char c = text.charAt(i++);
                    if (c == '"') {
                        if (i < text.length() && text.charAt(i) == '"') {
                            part.append('"');
                            i++;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        part.append(c);
                    }
                }
                String quoted = part.toString();
                if (!closed || quoted.isEmpty() || quoted.length() > 63 || quoted.chars().anyMatch(Character::isISOControl)) {
                    throw invalid(text);
                }
                parts.add(quoted);
            } else {
                int end = text.indexOf('.', i);
                String plain = text.substring(i, end < 0 ? text.length() : end);
                if (!PLAIN.matcher(plain).matches()) {
                    throw invalid(text);
                }
                parts.add(plain.toLowerCase(Locale.ROOT));
                i += plain.length();
            }
            if (i == text.length()) {
                break;
            }
            if (text.charAt(i) != '.' || parts.size() == 2) {
                throw invalid(text);
            }
            i++;
        }
        return parts.size() == 1 ? new TableName("public", parts.get(0)) : new TableName(parts.get(0), parts.get(1));
    }

    private static StowageException invalid(String text) {
        return StowageException.usage("--table '" + text + "' is not [SCHEMA.]NAME (each part a plain identifier: "
                + "letters, digits, '_', '$', not starting with a digit; or a double-quoted name; at most 63 characters)");
    }

    /** Quotes one identifier for SQL. */
    public static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** {@code "schema"."name"}, for SQL. */
    public String sql() {
        return quote(schema) + "." + quote(name);
    }

    /** {@code schema.name}, for messages. */
    @Override
    public String toString() {
        return schema + "." + name;
    }
}
