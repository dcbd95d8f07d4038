package io.stowage.route;

import io.stowage.Failures;
import io.stowage.alert.AlertOutbox;
import io.stowage.alert.AlertSettings;
import io.stowage.alert.BackupEvent;
import io.stowage.services.StowageServices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:alert-send[?retryDelayMs=N&maxRetryDelayMs=M]}: sends the alerts kept in the outbox, oldest first,
 * each through the route {@code direct:send-<channel>}, on an exchange of its own: whatever sending throws stays
 * there and never reaches the caller, so an alert can never change a backup's outcome. What cannot be sent stays
 * kept; a backup command prints a {@code warning:} line about it, the service logs it. With the retry parameters
 * (the service's timer), a channel that failed is tried again only after a delay that doubles up to the maximum.
 */
final class AlertSendStep implements Step {
    /** Warnings about alerts, for the backup command to print (a list of lines). */
    static final String WARNINGS = StowageServices.ALERT_WARNINGS_PROPERTY;
    private static final Logger LOG = LoggerFactory.getLogger(AlertSendStep.class);
    /** camel-slack reports a webhook's answer as {@code WebhookResponse(code=404, ...)}. */
    private static final Pattern SLACK_STATUS = Pattern.compile("WebhookResponse\\(code=(\\d{3})");

    private final Duration firstDelay;
    private final Duration maxDelay;
    private final Map<String, Backoff> backoff = new ConcurrentHashMap<>();
    private volatile ProducerTemplate producer;

    private record Backoff(Instant next, Duration delay) {
    }

    AlertSendStep(Map<String, String> parameters) {
        String first = parameters.remove("retryDelayMs");
        String max = parameters.remove("maxRetryDelayMs");
        Steps.noParameters(parameters, "alert-send");
        firstDelay = first == null ? null
                : Duration.ofMillis(Steps.integer(first, "retryDelayMs", 1, Integer.MAX_VALUE, 30_000));
        maxDelay = max == null ? firstDelay
                : Duration.ofMillis(Steps.integer(max, "maxRetryDelayMs", 1, Integer.MAX_VALUE, 900_000));
    }

    @Override
    public void process(Exchange exchange, StowageServices services) {
        AlertOutbox outbox = services.alertOutbox();
        List<String> problems = new ArrayList<>();
        Instant now = Instant.now();
        // Only the service may take a channel it has not configured as gone: a command run from a shell without
        // the service's environment (no webhook, no routing key) would otherwise drop every alert kept for it.
        boolean service = Boolean.parseBoolean(exchange.getContext().getPropertiesComponent()
                .resolveProperty("stowage.service").orElse("false"));
        try {
            AlertOutbox.Report report = outbox.deliver(
                    channel -> due(channel) && (service || configured(services.alertSettings(), channel)),
                    (channel, event) -> send(exchange.getContext(), services.alertSettings(), channel, event));
            for (AlertOutbox.Failure failure : report.failures()) {
                problems.add(describe(failure, outbox));
                if (!failure.dropped() && firstDelay != null) {
                    backoff.merge(failure.channel(), new Backoff(now.plus(firstDelay), firstDelay),
                            (old, fresh) -> {
                                Duration delay = old.delay().multipliedBy(2);
                                delay = delay.compareTo(maxDelay) > 0 ? maxDelay : delay;
                                return new Backoff(now.plus(delay), delay);
                            });
                }
            }
            backoff.keySet().removeIf(channel -> due(channel) && report.failures().stream()
                    .noneMatch(f -> f.channel().equals(channel) && !f.dropped()));
            if (report.sent() > 0 && firstDelay != null) {
                LOG.info("sent {} kept alert(s)", report.sent());
            }
        } catch (java.io.IOException | RuntimeException e) {
            problems.add("cannot send the alerts kept in " + outbox.directory() + ": " + Failures.describe(e));
        }
        sendUnkept(exchange, services, problems);
        if (ServiceSteps.command(exchange)) {
            @SuppressWarnings("unchecked")
            List<String> warnings = exchange.getProperty(WARNINGS, List.class);
            List<String> all = new ArrayList<>(warnings == null ? List.of() : warnings);
            all.addAll(problems);
            exchange.setProperty(WARNINGS, all);
        } else {
            problems.forEach(LOG::warn);
        }
    }

    private boolean due(String channel) {
        Backoff waiting = firstDelay == null ? null : backoff.get(channel);
        return waiting == null || !Instant.now().isBefore(waiting.next());
    }

    /** The alerts of this event that could not be kept (the local repository cannot be written): tried once now. */
    private void sendUnkept(Exchange exchange, StowageServices services, List<String> problems) {
        @SuppressWarnings("unchecked")
        Map<String, String> unkept = exchange.getProperty(ServiceSteps.UNKEPT, Map.class);
        exchange.removeProperty(ServiceSteps.UNKEPT);
        BackupEvent event = exchange.getProperty(ServiceSteps.EVENT, BackupEvent.class);
        if (unkept == null || event == null) {
            return;
        }
        unkept.forEach((channel, whyNotKept) -> {
            try {
                send(exchange.getContext(), services.alertSettings(), channel, event);
            } catch (Exception e) {
                problems.add("the " + channel + " alert for job " + event.job() + " (" + what(event) + ") is lost: "
                        + "it could not be sent (" + Failures.describe(e) + ") nor kept to be sent later ("
                        + whyNotKept + ")");
            }
        });
    }

    private void send(CamelContext context, AlertSettings settings, String channel, BackupEvent event)
            throws Exception {
        if (!configured(settings, channel)) {
            throw new AlertOutbox.Refused(channel + " is not configured any more", null);
        }
        Exchange sent = producer(context).send("direct:send-" + channel, e -> {
            e.setProperty(ServiceSteps.EVENT, event);
            e.getIn().setBody(event);
        });
        Exception failure = sent.getException();
        if (failure != null) {
            int status = status(failure);
            // A 4xx other than a time-out or a rate limit will be refused again: retrying would only hold back
            // the alerts behind it.
            if (status >= 400 && status < 500 && status != 408 && status != 429) {
                throw new AlertOutbox.Refused(channel + " refused it (HTTP " + status + "): "
                        + Failures.describe(failure), failure);
            }
            throw failure;
        }
    }

    private static boolean configured(AlertSettings settings, String channel) {
        return switch (channel) {
            case "slack" -> settings.slack();
            case "pagerduty" -> settings.pagerDuty();
            default -> false;
        };
    }

    private ProducerTemplate producer(CamelContext context) {
        if (producer == null) {
            synchronized (this) {
                if (producer == null) {
                    producer = context.createProducerTemplate();
                }
            }
        }
        return producer;
    }

    /** The HTTP status a channel answered with, or 0 when it did not answer. */
    static int status(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.camel.http.base.HttpOperationFailedException http) {
                return http.getStatusCode();
            }
            Matcher slack = SLACK_STATUS.matcher(String.valueOf(t.getMessage()));
            if (slack.find()) {
                return Integer.parseInt(slack.group(1));
            }
        }
        return 0;
    }

    private static String describe(AlertOutbox.Failure failure, AlertOutbox outbox) {
        String alert = "the " + failure.channel() + " alert" + (failure.event() == null ? ""
                : " for job " + failure.event().job() + " (" + what(failure.event()) + ")");
        if (failure.dropped()) {
            return alert + " was dropped: " + failure.reason();
        }
        return alert + " could not be sent: " + failure.reason() + "; kept in " + outbox.directory()
                + (failure.waiting() > 1 ? " with " + (failure.waiting() - 1) + " later one(s)" : "")
                + ": the service (stowage run) sends it once " + failure.channel() + " can be reached";
    }

    private static String what(BackupEvent event) {
        String subject = "verify".equals(event.type()) ? "verification" : "rto".equals(event.type())
                ? "restore time objective" : event.type() + " backup";
        return switch (event.kind()) {
            case STARTED -> subject + " started";
            case SUCCESS -> subject + " succeeded";
            case FAILURE -> subject + " failed";
            case STALE -> subject + " stale";
            case FRESH -> subject + " fresh again";
        };
    }
}
