package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import java.util.Locale;
import java.util.regex.Pattern;

/** PostgreSQL's WAL naming: LSNs ({@code 0/2000028}) and segment file names ({@code 000000010000000000000002}). */
public final class WalNames {
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern HISTORY = Pattern.compile("[0-9A-F]{8}\\.history");
    private static final Pattern BACKUP_HISTORY = Pattern.compile("[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup");

    private WalNames() {
    }

    /** Parses an LSN such as {@code 0/2000028} into a 64-bit position. */
    public static long lsn(String text) {
        String[] parts = text.trim().split("/");
        if (parts.length != 2) {
            throw new StowageException("'" + text + "' is not a WAL location");
        }
        return (Long.parseUnsignedLong(parts[0], 16) << 32) | Long.parseUnsignedLong(parts[1], 16);
    }

    /** The name of the segment holding {@code lsn} on {@code timeline}, for segments of {@code segmentSize} bytes. */
    public static String segment(int timeline, long lsn, long segmentSize) {
        long segmentsPerId = 0x100000000L / segmentSize;
        long segno = Long.divideUnsigned(lsn, segmentSize);
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, segno / segmentsPerId, segno % segmentsPerId);
    }

    /** The segment after {@code name}, on the same timeline. */
    public static String next(String name, long segmentSize) {
        int timeline = Integer.parseUnsignedInt(name.substring(0, 8), 16);
        long segmentsPerId = 0x100000000L / segmentSize;
        long segno = Long.parseUnsignedLong(name.substring(8, 16), 16) * segmentsPerId
                + Long.parseUnsignedLong(name.substring(16, 24), 16) + 1;
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, segno / segmentsPerId, segno % segmentsPerId);
    }

    public static boolean isSegment(String name) {
        return SEGMENT.matcher(name).matches();
    }

    public static boolean isHistory(String name) {
        return HISTORY.matcher(name).matches();
    }

    /** A backup history file, {@code 000000010000000000000002.00000028.backup}. */
    public static boolean isBackupHistory(String name) {
        return BACKUP_HISTORY.matcher(name).matches();
    }

    public static int timeline(String name) {
        return Integer.parseUnsignedInt(name.substring(0, 8), 16);
    }
}
