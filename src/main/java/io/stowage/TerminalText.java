package io.stowage;

import java.io.FilterWriter;
import java.io.IOException;
import java.io.Writer;

/**
 * Text that came from outside (job names, backup ids, table and file names, paths, a tool's stderr) made safe for a
 * terminal or a log: every control character (C0, DEL, C1) is written as {@code \xNN}, so an argument or a file name
 * can neither move the cursor, recolour or clear the screen (ESC and CSI sequences) nor forge a line of output (CR,
 * LF); and every character that reorders the text around it (the bidirectional marks, embeddings, overrides and
 * isolates) as a backslash, 'u' and its four hex digits, so that a name cannot make the line read otherwise than it
 * is written. Applied where text leaves the process: the error and warning lines, stdout and stderr, and log messages.
 */
public final class TerminalText {
    private TerminalText() {
    }

    /** {@code text} on one line: every control character escaped, line ends included. */
    public static String line(String text) {
        return escape(text, false);
    }

    /** A writer that escapes every control character but the line end its lines are printed with. */
    public static Writer escaping(Writer out) {
        return new FilterWriter(out) {
            @Override
            public void write(int c) throws IOException {
                out.write(keep(c) ? String.valueOf((char) c) : hex(c));
            }

            @Override
            public void write(char[] buffer, int offset, int length) throws IOException {
                write(new String(buffer, offset, length), 0, length);
            }

            @Override
            public void write(String text, int offset, int length) throws IOException {
                String part = text.substring(offset, offset + length);
                out.write(escape(part, true));
            }
        };
    }

    private static String escape(String text, boolean keepLineEnds) {
        if (text == null) {
            return null;
        }
        StringBuilder escaped = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean keep = !control(c) || keepLineEnds && c == '\n';
            if (!keep && escaped == null) {
                escaped = new StringBuilder(text.length() + 8).append(text, 0, i);
            }
            if (escaped != null) {
                escaped.append(keep ? String.valueOf(c) : hex(c));
            }
        }
        return escaped == null ? text : escaped.toString();
    }

    private static boolean keep(int c) {
        return !control(c) || c == '\n';
    }

    private static boolean control(int c) {
        return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || reordering(c);
    }

    /** ALM, LRM, RLM, the embeddings and overrides (LRE to RLO) and the isolates (LRI to PDI). */
    private static boolean reordering(int c) {
        return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    }

    private static String hex(int c) {
        return c <= 0xff ? String.format("\\x%02x", c) : String.format("\\u%04x", c);
    }
}
