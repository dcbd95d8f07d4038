package io.stowage.engine.postgresql;

/**
 * Schema-qualified names read back from SQL that pg_dump wrote: each part plain (lower case, as pg_dump leaves it
 * unquoted) or double-quoted ({@code ""} for a quote).
 */
final class SqlNames {
    private SqlNames() {
    }

    /** The name {@code schema.name} (or {@code name}, schema public) starting at {@code at}; null if none is there. */
    static TableName qualifiedNameAt(String sql, int at) {
        String[] parts = new String[2];
        int count = 0;
        int i = at;
        while (count < 2) {
            int[] end = new int[1];
            String part = identifierAt(sql, i, end);
            if (part == null) {
                return null;
            }
            parts[count++] = part;
            i = end[0];
            if (i >= sql.length() || sql.charAt(i) != '.') {
                break;
            }
            i++;
        }
        return count == 2 ? new TableName(parts[0], parts[1]) : new TableName("public", parts[0]);
    }

    /**
     * The first {@code schema.name} in {@code sql} after the header comment of its first entry (pg_restore's script
     * starts with settings such as {@code pg_catalog.set_config}), outside comments and string literals; null if
     * there is none.
     */
    static TableName firstQualifiedName(String sql) {
        int start = sql.indexOf("\n-- Name: ");
        int i = start < 0 ? 0 : sql.indexOf('\n', start + 1);
        if (i < 0) {
            return null;
        }
        while (i < sql.length()) {
            char c = sql.charAt(i);
            if (c == '-' && sql.startsWith("--", i)) {
                int eol = sql.indexOf('\n', i);
                i = eol < 0 ? sql.length() : eol + 1;
            } else if (c == '\'') {
                i = skipQuoted(sql, i, '\'');
            } else if (c == '"' || Character.isLetter(c) || c == '_') {
                int[] end = new int[1];
                String part = identifierAt(sql, i, end);
                if (part == null) {
                    return null;
                }
                if (end[0] < sql.length() && sql.charAt(end[0]) == '.') {
                    TableName name = qualifiedNameAt(sql, i);
                    if (name != null) {
                        return name;
                    }
                }
                i = end[0];
            } else {
                i++;
            }
        }
        return null;
    }

    /** One identifier at {@code at}: its text, and in {@code end[0]} where it ends; null if there is none. */
    private static String identifierAt(String sql, int at, int[] end) {
        if (at >= sql.length()) {
            return null;
        }
        StringBuilder part = new StringBuilder();
        int i = at;
        if (sql.charAt(i) == '"') {
            i++;
            while (i < sql.length()) {
                char c = sql.charAt(i++);
                if (c == '"') {
                    if (i < sql.length() && sql.charAt(i) == '"') {
                        part.append('"');
                        i++;
                    } else {
                        end[0] = i;
                        return part.toString();
                    }
                } else {
                    part.append(c);
                }
            }
            return null;
        }
        while (i < sql.length() && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_'
                || sql.charAt(i) == '$')) {
            part.append(sql.charAt(i++));
        }
        end[0] = i;
        return part.isEmpty() ? null : part.toString();
    }

    private static int skipQuoted(String sql, int at, char quote) {
        int i = at + 1;
        while (i < sql.length()) {
            if (sql.charAt(i) == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return i;
    }
}
