package io.stowage.alert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.catalog.ManifestCodec;

/**
 * PagerDuty Events API v2 bodies: {@code trigger} on a failure or staleness, {@code resolve} on the next success,
 * with the same {@code dedup_key}, so one incident opens per job and type and closes by itself.
 */
public final class PagerDutyEvents {
    private PagerDutyEvents() {
    }

    public static String of(BackupEvent event, String routingKey) {
        ObjectNode body = ManifestCodec.JSON.createObjectNode();
        body.put("routing_key", routingKey);
        body.put("dedup_key", event.dedupKey());
        if (!event.kind().bad()) {
            body.put("event_action", "resolve");
            return body.toString();
        }
        body.put("event_action", "trigger");
        ObjectNode payload = body.putObject("payload");
        payload.put("summary", ("rto".equals(event.type()) ? "RTO objective missed: "
                : "verify".equals(event.type()) ? "Verification failed: "
                : "expire".equals(event.type()) ? "Expiry failed: "
                : event.kind() == BackupEvent.Kind.STALE ? "Stale backup: " : "Backup failed: ")
                + event.job() + " (" + event.type() + ")" + (event.error() == null ? "" : ": " + event.error()));
        payload.put("source", event.host());
        payload.put("severity", event.severity());
        payload.put("timestamp", event.at().toString());
        payload.put("component", event.job());
        payload.put("group", event.engine());
        payload.put("class", "rto".equals(event.type()) ? "restore-objective"
                : "expire".equals(event.type()) ? "expiry-failure"
                : event.kind() == BackupEvent.Kind.STALE ? "stale-backup" : "backup-failure");
        ObjectNode details = payload.putObject("custom_details");
        details.put("job", event.job());
        details.put("type", event.type());
        details.put("trigger", event.trigger());
        details.put("attempts", event.attempts());
        if (event.backupId() != null) {
            details.put("backup_id", event.backupId());
        }
        if (event.error() != null) {
            details.put("error", event.error());
        }
        return body.toString();
    }
}
