package io.stowage.catalog;

import io.stowage.StowageException;
import java.util.Locale;

/** The kinds of backup; the letter ends a backup id. */
public enum BackupType {
    FULL("full", 'F'),
    DIFF("diff", 'D'),
    INCR("incr", 'I');

    private final String id;
    private final char letter;

    BackupType(String id, char letter) {
        this.id = id;
        this.letter = letter;
    }

    @com.fasterxml.jackson.annotation.JsonValue
    public String id() {
        return id;
    }

    public char letter() {
        return letter;
    }

    @com.fasterxml.jackson.annotation.JsonCreator
    public static BackupType of(String name) {
        String wanted = name == null ? "full" : name.trim().toLowerCase(Locale.ROOT);
        for (BackupType type : values()) {
            if (type.id.equals(wanted)) {
                return type;
            }
        }
        throw StowageException.usage("unknown backup type '" + name + "': choose full, diff or incr");
    }

    @Override
    public String toString() {
        return id;
    }
}
