package io.stowage.catalog;

/**
 * A backup directory whose {@code manifest.json} is there but cannot be used in one repository: damaged (truncated,
 * not JSON, missing fields, describing another backup), of a format version this Stowage does not know, or unreadable.
 * The backup is not listed from that repository; it may still be listed from another one holding a sound copy.
 */
public record UnreadableManifest(String job, String id, String repository, String reason) {
    public UnreadableManifest {
        // The reason may quote the damaged file (a parser's message): nothing in it may move a terminal's cursor.
        reason = io.stowage.TerminalText.line(reason);
    }

    /** One line for a warning: which backup, where, and why. */
    public String describe() {
        return "backup " + id + " of job '" + job + "' skipped in repository '" + repository + "': " + reason;
    }
}
