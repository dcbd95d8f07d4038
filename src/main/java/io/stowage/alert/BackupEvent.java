package io.stowage.alert;

import java.time.Duration;
import java.time.Instant;

/**
 * Something an operator may need to hear about: a backup that succeeded or failed, or a job whose last success is
 * too old (stale) or no longer is (fresh). Alerts, metrics and the audit log are all made from it.
 */
public record BackupEvent(
        Kind kind,
        String job,
        String engine,
        String type,
        String backupId,
        String trigger,
        Instant at,
        Duration duration,
        long sizeBytes,
        long storedBytes,
        String error,
        int attempts,
        String severity,
        String host) {

    /** What happened. */
    public enum Kind {
        STARTED, SUCCESS, FAILURE, STALE, FRESH;

        public boolean bad() {
            return this == FAILURE || this == STALE;
        }
    }

    /** PagerDuty's stable key: one incident per job and backup type, and one for its staleness. */
    public String dedupKey() {
        String base = "stowage/" + job + "/" + type;
        return kind == Kind.STALE || kind == Kind.FRESH ? base + "/stale" : base;
    }
}
