package io.stowage.engine.postgresql;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a logical backup holds about the database itself rather than the objects in it: its owner, settings
 * ({@code ALTER DATABASE ... SET}), per-role settings in it ({@code ALTER ROLE ... IN DATABASE ... SET}), connection
 * limit, comment and privileges. pg_dump keeps them in the archive entries DATABASE, DATABASE PROPERTIES, and the
 * COMMENT and ACL entries on the database, which pg_restore only writes out with {@code --create}, naming the
 * backed-up database. They are read here from that script into values (see {@link SqlTokens}), and
 * {@link #statements} writes them again for the restored database's own name: a hostile name in the backup is only
 * ever a value that is quoted again, never SQL that is run.
 */
public final class DatabaseProperties {
    private static final Set<String> PRIVILEGES = Set.of("connect", "temporary", "temp", "create", "all");

    /** One statement to run on the restored database, with what it does (for a warning when it fails). */
    public record Statement(String sql, String description) {
    }

    private record Setting(String role, String name, List<String> values) {
    }

    private record Grant(boolean grant, boolean grantOption, List<String> privileges, List<String> grantees) {
    }

    private String database;
    private String owner;
    private String connectionLimit;
    private boolean template;
    private boolean hasComment;
    private String comment;
    private final List<Setting> settings = new ArrayList<>();
    private final List<Grant> grants = new ArrayList<>();
    private final List<String> unread = new ArrayList<>();

    private DatabaseProperties() {
    }

    /** None: a backup whose database had nothing of its own (or an archive without the entries). */
    public static DatabaseProperties none() {
        return new DatabaseProperties();
    }

    /** Reads the script {@code pg_restore --create} writes for the database's own entries. */
    public static DatabaseProperties parse(String script) {
        DatabaseProperties properties = new DatabaseProperties();
        for (List<SqlTokens.Token> statement : SqlTokens.parse(script)) {
            if (!properties.read(new Cursor(statement))) {
                properties.unread.add(summary(statement));
            }
        }
        return properties;
    }

    /** The owner the backed-up database had, or null (not in the script, as with {@code --no-owner}). */
    public String owner() {
        return owner;
    }

    /** Whether the backed-up database was a template; a restored copy is not made one (it could not be dropped). */
    public boolean template() {
        return template;
    }

    /** Statements of the script that are none of the above, each summed up in a few words, for a warning. */
    public List<String> unread() {
        return List.copyOf(unread);
    }

    /**
     * The statements that give {@code target} these properties: connection limit, settings, per-role settings,
     * comment, privileges, and last the owner (after which the restoring role may no longer own it). The comment is
     * always set, to null when the backup had none, so that no comment of Stowage's own outlives the restore.
     */
    public List<Statement> statements(String target) {
        String db = identifier(target);
        List<Statement> out = new ArrayList<>();
        if (connectionLimit != null) {
            out.add(new Statement("ALTER DATABASE " + db + " CONNECTION LIMIT " + connectionLimit,
                    "the connection limit " + connectionLimit));
        }
        for (Setting s : settings) {
            String values = String.join(", ", s.values().stream().map(DatabaseProperties::literal).toList());
            String set = "SET " + identifier(s.name()) + " TO " + values;
            if (s.role() == null) {
                out.add(new Statement("ALTER DATABASE " + db + " " + set, "the setting " + s.name() + " = "
                        + String.join(", ", s.values())));
            } else {
                out.add(new Statement("ALTER ROLE " + identifier(s.role()) + " IN DATABASE " + db + " " + set,
                        "the setting " + s.name() + " = " + String.join(", ", s.values()) + " of role " + s.role()
                                + " in the database"));
            }
        }
        out.add(new Statement("COMMENT ON DATABASE " + db + " IS " + (hasComment ? literal(comment) : "NULL"),
                hasComment ? "the comment" : "the removal of the restore's own comment"));
        for (Grant g : grants) {
            String privileges = String.join(", ", g.privileges()).toUpperCase(java.util.Locale.ROOT);
            String grantees = String.join(", ", g.grantees().stream()
                    .map(r -> r == null ? "PUBLIC" : identifier(r)).toList());
            String names = String.join(", ", g.grantees().stream().map(r -> r == null ? "PUBLIC" : r).toList());
            out.add(g.grant()
                    ? new Statement("GRANT " + privileges + " ON DATABASE " + db + " TO " + grantees
                            + (g.grantOption() ? " WITH GRANT OPTION" : ""), "the grant of " + privileges
                            + " on the database to " + names)
                    : new Statement("REVOKE " + (g.grantOption() ? "GRANT OPTION FOR " : "") + privileges
                            + " ON DATABASE " + db + " FROM " + grantees, "the revocation of " + privileges
                            + " on the database from " + names));
        }
        if (owner != null) {
            out.add(new Statement("ALTER DATABASE " + db + " OWNER TO " + identifier(owner),
                    "the owner " + owner + " of the database"));
        }
        return out;
    }

    private boolean read(Cursor c) {
        if (c.word("set") || c.word("reset") || c.word("select") && c.word("pg_catalog") && c.symbol(".")
                && c.word("set_config")) {
            return true; // the script's own session settings
        }
        c.rewind();
        if (c.word("create") && c.word("database") && c.identifier() != null) {
            database = database == null ? c.last() : database;
            return true; // Stowage creates the database itself, under its own name
        }
        c.rewind();
        if (c.word("alter") && c.word("database")) {
            return alterDatabase(c);
        }
        c.rewind();
        if (c.word("alter") && c.word("role")) {
            String role = c.identifier();
            return role != null && c.word("in") && c.word("database") && sameDatabase(c.identifier())
                    && setting(c, role);
        }
        c.rewind();
        if (c.word("comment") && c.word("on") && c.word("database") && sameDatabase(c.identifier()) && c.word("is")) {
            if (c.word("null")) {
                hasComment = false;
                return c.atEnd();
            }
            String text = c.string();
            if (text == null || !c.atEnd()) {
                return false;
            }
            hasComment = true;
            comment = text;
            return true;
        }
        c.rewind();
        if (c.word("grant")) {
            return grant(c, true, false);
        }
        c.rewind();
        if (c.word("revoke")) {
            boolean option = c.word("grant") && c.word("option") && c.word("for");
            if (!option) {
                c.rewind();
                c.word("revoke");
            }
            return grant(c, false, option);
        }
        return false;
    }

    private boolean alterDatabase(Cursor c) {
        if (!sameDatabase(c.identifier())) {
            return false;
        }
        int mark = c.position();
        if (c.word("owner") && c.word("to")) {
            String role = c.identifier();
            if (role == null || !c.atEnd()) {
                return false;
            }
            owner = role;
            return true;
        }
        c.seek(mark);
        if (c.word("connection") && c.word("limit")) {
            c.symbol("=");
            String limit = c.number();
            if (limit == null || !limit.matches("-?\\d{1,9}") || !c.atEnd()) {
                return false;
            }
            connectionLimit = limit;
            return true;
        }
        c.seek(mark);
        if (c.word("is_template") && c.symbol("=")) {
            template = c.word("true") && c.atEnd();
            return c.atEnd();
        }
        c.seek(mark);
        return setting(c, null);
    }

    /** {@code SET name TO value [, value...]}, the rest of a statement. */
    private boolean setting(Cursor c, String role) {
        if (!c.word("set")) {
            return false;
        }
        StringBuilder name = new StringBuilder();
        String part = c.identifier();
        if (part == null) {
            return false;
        }
        name.append(part);
        while (c.symbol(".")) {
            part = c.identifier();
            if (part == null) {
                return false;
            }
            name.append('.').append(part);
        }
        if (!c.word("to") && !c.symbol("=")) {
            return false;
        }
        List<String> values = new ArrayList<>();
        do {
            String value = c.value();
            if (value == null) {
                return false;
            }
            values.add(value);
        } while (c.symbol(","));
        if (!c.atEnd()) {
            return false;
        }
        settings.add(new Setting(role, name.toString(), List.copyOf(values)));
        return true;
    }

    /** The rest of {@code GRANT privileges ON DATABASE name TO grantees [WITH GRANT OPTION]}, or of a REVOKE. */
    private boolean grant(Cursor c, boolean grant, boolean grantOption) {
        List<String> privileges = new ArrayList<>();
        do {
            SqlTokens.Token t = c.next();
            if (t == null || t.kind() != SqlTokens.Kind.WORD || !PRIVILEGES.contains(t.text())) {
                return false;
            }
            privileges.add(t.text().equals("all") && c.word("privileges") ? "all privileges" : t.text());
        } while (c.symbol(","));
        if (!c.word("on") || !c.word("database") || !sameDatabase(c.identifier()) || !c.word(grant ? "to" : "from")) {
            return false;
        }
        List<String> grantees = new ArrayList<>();
        do {
            c.word("group");
            SqlTokens.Token t = c.next();
            if (t == null || !t.isIdentifier()) {
                return false;
            }
            grantees.add(t.isWord("public") ? null : t.text()); // null: PUBLIC, everyone
        } while (c.symbol(","));
        boolean option = grantOption;
        if (grant && c.word("with")) {
            if (!c.word("grant") || !c.word("option")) {
                return false;
            }
            option = true;
        }
        if (!grant) {
            c.word("cascade");
        }
        if (!c.atEnd()) {
            return false;
        }
        grants.add(new Grant(grant, option, List.copyOf(privileges),
                java.util.Collections.unmodifiableList(grantees))); // null stands for PUBLIC
        return true;
    }

    /** Statements name the backed-up database; one naming any other is not this database's and is not read. */
    private boolean sameDatabase(String name) {
        if (name == null) {
            return false;
        }
        if (database == null) {
            database = name;
        }
        return database.equals(name);
    }

    /** A quoted identifier: any text, double quotes doubled. */
    static String identifier(String name) {
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a name with a NUL character");
        }
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /** A string literal that reads the same whatever standard_conforming_strings is. */
    static String literal(String text) {
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a value with a NUL character");
        }
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    private static String summary(List<SqlTokens.Token> statement) {
        StringBuilder words = new StringBuilder();
        for (int i = 0; i < Math.min(3, statement.size()); i++) {
            SqlTokens.Token t = statement.get(i);
            words.append(i == 0 ? "" : " ").append(t.kind() == SqlTokens.Kind.WORD
                    ? t.text().toUpperCase(java.util.Locale.ROOT) : "...");
        }
        return words + (statement.size() > 3 ? " ..." : "");
    }

    /** Reads one statement's tokens from the start; each matcher consumes its token only when it matches. */
    private static final class Cursor {
        private final List<SqlTokens.Token> tokens;
        private int i;
        private String last;

        Cursor(List<SqlTokens.Token> tokens) {
            this.tokens = tokens;
        }

        void rewind() {
            i = 0;
        }

        int position() {
            return i;
        }

        void seek(int position) {
            i = position;
        }

        boolean atEnd() {
            return i == tokens.size();
        }

        String last() {
            return last;
        }

        SqlTokens.Token next() {
            return i < tokens.size() ? tokens.get(i++) : null;
        }

        boolean word(String word) {
            if (i < tokens.size() && tokens.get(i).isWord(word)) {
                i++;
                return true;
            }
            return false;
        }

        boolean symbol(String symbol) {
            if (i < tokens.size() && tokens.get(i).isSymbol(symbol)) {
                i++;
                return true;
            }
            return false;
        }

        String identifier() {
            if (i < tokens.size() && tokens.get(i).isIdentifier()) {
                last = tokens.get(i++).text();
                return last;
            }
            return null;
        }

        String string() {
            if (i < tokens.size() && tokens.get(i).kind() == SqlTokens.Kind.STRING) {
                return tokens.get(i++).text();
            }
            return null;
        }

        String number() {
            boolean negative = symbol("-");
            if (i < tokens.size() && tokens.get(i).kind() == SqlTokens.Kind.NUMBER) {
                return (negative ? "-" : "") + tokens.get(i++).text();
            }
            return null;
        }

        /** A setting's value: a literal, a number or a word, as its text. */
        String value() {
            if (i >= tokens.size()) {
                return null;
            }
            SqlTokens.Token t = tokens.get(i);
            if (t.kind() == SqlTokens.Kind.STRING || t.kind() == SqlTokens.Kind.NUMBER || t.isIdentifier()) {
                i++;
                return t.text();
            }
            String negative = number();
            return negative;
        }
    }
}
