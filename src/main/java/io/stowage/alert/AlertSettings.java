package io.stowage.alert;

import io.stowage.Secrets;
import java.util.Locale;

/**
 * Where alerts go, from application.properties: a Slack incoming webhook and a PagerDuty Events API v2 routing key,
 * each optional. Both values are secrets: they are masked in every message and log line.
 */
public record AlertSettings(String slackWebhookUrl, boolean slackNotifySuccess, String pagerDutyRoutingKey,
                            String pagerDutyUrl) {
    public AlertSettings {
        Secrets.register(slackWebhookUrl);
        Secrets.register(pagerDutyRoutingKey);
    }

    public boolean slack() {
        return slackWebhookUrl != null && !slackWebhookUrl.isBlank();
    }

    public boolean pagerDuty() {
        return pagerDutyRoutingKey != null && !pagerDutyRoutingKey.isBlank();
    }

    /** A job's data classification tier (seed 002) as a PagerDuty severity. */
    public static String severity(String tier) {
        return switch (tier == null ? "high" : tier.toLowerCase(Locale.ROOT)) {
            case "critical" -> "critical";
            case "medium" -> "warning";
            case "low" -> "info";
            default -> "error";
        };
    }
}
