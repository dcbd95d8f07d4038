package io.stowage.catalog;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.regex.Pattern;

/**
 * Backup ids sort by time and end with the type: {@code 20261121T020000Z-F}. Sorting ids as strings sorts backups
 * by start time, which is what every listing relies on.
 */
public final class BackupId {
    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final Pattern PATTERN = Pattern.compile("\\d{8}T\\d{6}Z-[FDI]");

    private BackupId() {
    }

    public static String of(Instant started, BackupType type) {
        return FORMAT.format(started.truncatedTo(ChronoUnit.SECONDS)) + "-" + type.letter();
    }

    public static boolean isValid(String id) {
        return id != null && PATTERN.matcher(id).matches();
    }
}
