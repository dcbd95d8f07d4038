package io.stowage.engine.postgresql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The statements of a SQL script as pg_restore writes it, each a list of tokens with quoting already undone: an
 * identifier's or a literal's text is what it means, never what it looked like. That is what lets Stowage read a
 * statement naming a database by whatever hostile name it had and write its own statement for another name: nothing
 * from the script is ever pasted into SQL. psql meta-commands ({@code \connect}, {@code \restrict}) and comments are
 * skipped; anything this lexer does not understand makes {@link #parse} fail rather than guess.
 */
final class SqlTokens {
    private SqlTokens() {
    }

    enum Kind {
        /** An unquoted word: a keyword or an identifier, folded to lower case as PostgreSQL folds it. */
        WORD,
        /** A double-quoted identifier, taken as written. */
        QUOTED,
        /** A string literal ({@code '...'}, {@code E'...'} or dollar-quoted), unescaped. */
        STRING,
        NUMBER,
        /** One character of punctuation: {@code ; , = ( ) .} and others. */
        SYMBOL
    }

    record Token(Kind kind, String text) {
        boolean isWord(String word) {
            return kind == Kind.WORD && text.equals(word);
        }

        boolean isSymbol(String symbol) {
            return kind == Kind.SYMBOL && text.equals(symbol);
        }

        /** An identifier: a quoted one, or an unquoted word. */
        boolean isIdentifier() {
            return kind == Kind.QUOTED || kind == Kind.WORD;
        }
    }

    /** Thrown for text this lexer will not interpret. */
    static final class UnreadableSql extends IllegalArgumentException {
        UnreadableSql(String message) {
            super(message);
        }
    }

    /** The statements of {@code script} (without their closing {@code ;}), empty ones left out. */
    static List<List<Token>> parse(String script) {
        List<List<Token>> statements = new ArrayList<>();
        List<Token> current = new ArrayList<>();
        int i = 0;
        int n = script.length();
        boolean lineStart = true;
        while (i < n) {
            char c = script.charAt(i);
            if (c == '\n') {
                lineStart = true;
                i++;
                continue;
            }
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (c == '\\' && lineStart && current.isEmpty()) {
                i = endOfLine(script, i); // a psql meta-command: the whole line is its
                continue;
            }
            lineStart = false;
            if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                i = endOfLine(script, i);
            } else if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                i = endOfBlockComment(script, i);
            } else if (c == ';') {
                if (!current.isEmpty()) {
                    statements.add(List.copyOf(current));
                    current.clear();
                }
                i++;
            } else if (c == '\'') {
                i = string(script, i + 1, false, current);
            } else if ((c == 'E' || c == 'e') && i + 1 < n && script.charAt(i + 1) == '\'') {
                i = string(script, i + 2, true, current);
            } else if (c == '"') {
                i = quotedIdentifier(script, i + 1, current);
            } else if (c == '$' && (i + 1 < n) && (script.charAt(i + 1) == '$' || isWordStart(script.charAt(i + 1)))) {
                i = dollarQuoted(script, i, current);
            } else if (isWordStart(c)) {
                int end = i + 1;
                while (end < n && isWordPart(script.charAt(end))) {
                    end++;
                }
                if (end < n && script.charAt(end) == '\'') {
                    throw new UnreadableSql("a prefixed string literal (" + script.substring(i, end) + "'...')");
                }
                current.add(new Token(Kind.WORD, script.substring(i, end).toLowerCase(Locale.ROOT)));
                i = end;
            } else if (c >= '0' && c <= '9') {
                int end = i + 1;
                while (end < n && (Character.isLetterOrDigit(script.charAt(end)) || script.charAt(end) == '.')) {
                    end++;
                }
                current.add(new Token(Kind.NUMBER, script.substring(i, end)));
                i = end;
            } else {
                current.add(new Token(Kind.SYMBOL, String.valueOf(c)));
                i++;
            }
        }
        if (!current.isEmpty()) {
            statements.add(List.copyOf(current));
        }
        return statements;
    }

    private static boolean isWordStart(char c) {
        return Character.isLetter(c) || c == '_' || c > 127;
    }

    private static boolean isWordPart(char c) {
        return isWordStart(c) || Character.isDigit(c) || c == '$';
    }

    private static int endOfLine(String s, int i) {
        int end = s.indexOf('\n', i);
        return end < 0 ? s.length() : end;
    }

    private static int endOfBlockComment(String s, int i) {
        int depth = 0;
        while (i < s.length()) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        throw new UnreadableSql("an unterminated comment");
    }

    private static int quotedIdentifier(String s, int i, List<Token> out) {
        StringBuilder text = new StringBuilder();
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '"') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
                    text.append('"');
                    i += 2;
                    continue;
                }
                out.add(new Token(Kind.QUOTED, text.toString()));
                return i + 1;
            }
            text.append(c);
            i++;
        }
        throw new UnreadableSql("an unterminated quoted identifier");
    }

    /**
     * A string literal from just after its opening quote. With {@code escapes} ({@code E'...'}), backslash escapes
     * are undone; without, the literal is taken as standard_conforming_strings reads it, which pg_restore's scripts
     * set.
     */
    private static int string(String s, int i, boolean escapes, List<Token> out) {
        StringBuilder text = new StringBuilder();
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '\'') {
                    text.append('\'');
                    i += 2;
                    continue;
                }
                out.add(new Token(Kind.STRING, text.toString()));
                return i + 1;
            }
            if (c == '\\' && escapes) {
                if (i + 1 >= s.length()) {
                    break;
                }
                char e = s.charAt(i + 1);
                switch (e) {
                    case 'b' -> text.append('\b');
                    case 'f' -> text.append('\f');
                    case 'n' -> text.append('\n');
                    case 'r' -> text.append('\r');
                    case 't' -> text.append('\t');
                    case '\\', '\'', '"' -> text.append(e);
                    default -> throw new UnreadableSql("the escape \\" + e + " in a string literal");
                }
                i += 2;
                continue;
            }
            text.append(c);
            i++;
        }
        throw new UnreadableSql("an unterminated string literal");
    }

    private static int dollarQuoted(String s, int i, List<Token> out) {
        int tagEnd = s.indexOf('$', i + 1);
        if (tagEnd < 0) {
            throw new UnreadableSql("an unterminated dollar quote");
        }
        String tag = s.substring(i, tagEnd + 1);
        for (int k = 1; k < tag.length() - 1; k++) {
            if (!isWordPart(tag.charAt(k))) {
                throw new UnreadableSql("a malformed dollar quote");
            }
        }
        int end = s.indexOf(tag, tagEnd + 1);
        if (end < 0) {
            throw new UnreadableSql("an unterminated dollar quote");
        }
        out.add(new Token(Kind.STRING, s.substring(tagEnd + 1, end)));
        return end + tag.length();
    }
}
