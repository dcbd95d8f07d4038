package io.stowage.route;

import io.stowage.Failures;
import io.stowage.StowageException;
import io.stowage.alert.AlertSettings;
import io.stowage.alert.BackupEvent;
import io.stowage.alert.PagerDutyEvents;
import io.stowage.alert.SlackMessages;
import io.stowage.audit.AuditLog;
import io.stowage.job.Job;
import io.stowage.services.StowageServices;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Steps of the service routes: outcome of a backup, alert planning and message building, staleness. */
final class ServiceSteps {
    static final String EVENT = "StowageEvent";
    static final String SEND_SLACK = "StowageSendSlack";
    static final String SEND_PAGERDUTY = "StowageSendPagerDuty";
    /** Channel to why, for the alerts of the current event that could not be kept in the outbox. */
    static final String UNKEPT = "StowageUnkeptAlerts";
    private static final Logger LOG = LoggerFactory.getLogger(ServiceSteps.class);

    private ServiceSteps() {
    }

    /**
     * {@code stowage:outcome?result=success|failure}: turns the finished (or finally failed) backup into an event,
     * records it in the metrics and the audit log, and makes it the body for the notify route.
     */
    static final class Outcome implements Step {
        private final boolean success;

        Outcome(Map<String, String> parameters) {
            String result = Steps.required(parameters, "result", "outcome");
            if (!result.equals("success") && !result.equals("failure")) {
                throw StowageException.usage("stowage:outcome result must be success or failure, not '" + result + "'");
            }
            success = result.equals("success");
            Steps.noParameters(parameters, "outcome");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupRun run = exchange.getProperty(BackupRun.PROPERTY, BackupRun.class);
            String jobName = run != null ? run.job.name() : exchange.getIn().getHeader("StowageJob", "unknown", String.class);
            String type = run != null ? run.type.id()
                    : exchange.getIn().getHeader(BackupRun.TYPE_HEADER, "full", String.class);
            Job job = services.jobs().all().stream().filter(j -> j.name().equals(jobName)).findFirst().orElse(null);
            Throwable failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            if (failure != null) {
                failure = io.stowage.Interruption.explain(failure);
            }
            Instant now = Instant.now();
            Instant started = run != null ? run.started
                    : exchange.getProperty("StowageStarted", now, Instant.class);
            int attempts = Math.max(1, exchange.getProperty(BeginStep.ATTEMPTS, 1, Integer.class));
            String backupId = run == null ? null : (success || !run.completeIn.isEmpty() ? run.id : null);
            BackupEvent event = new BackupEvent(success ? BackupEvent.Kind.SUCCESS : BackupEvent.Kind.FAILURE, jobName,
                    job == null ? "unknown" : job.engine(), type, backupId,
                    exchange.getIn().getHeader(StowageServices.TRIGGER_HEADER, "command", String.class), now,
                    Duration.between(started, now), run == null ? 0 : run.sizeBytes, run == null ? 0 : run.storedBytes,
                    success || failure == null ? null : Failures.describe(failure), attempts,
                    AlertSettings.severity(job == null ? null : job.parameter("severity", null)), AuditLog.host());
            services.metrics().record(event);
            services.audit().record(new io.stowage.audit.AuditLog.Entry("backup", jobName, backupId,
                    success ? "success" : "failure", event.duration(), event.error()));
            if (!success) {
                // The backup's own failure, kept apart from EXCEPTION_CAUGHT, which any later doCatch overwrites.
                exchange.setProperty(StowageServices.FAILURE_PROPERTY,
                        failure != null ? failure : new StowageException("backup of job '" + jobName + "' failed"));
                if (!command(exchange)) {
                    // A command reports the failure itself, in its one error line.
                    LOG.error("backup of job {} ({}) failed after {} attempt(s): {}", jobName, type, attempts,
                            event.error());
                }
            }
            exchange.setProperty(EVENT, event);
            exchange.getIn().setBody(event);
        }
    }

    /** Whether the exchange is a backup run from the command line, which prints its own error and warnings. */
    static boolean command(Exchange exchange) {
        return "command".equals(exchange.getIn().getHeader(StowageServices.TRIGGER_HEADER, String.class));
    }

    /**
     * {@code stowage:alert-plan}: decides where the event in the body goes, and keeps an alert for each of those
     * channels in the outbox, for {@code stowage:alert-send}. Failures and staleness always go to Slack and open a
     * PagerDuty incident; a success goes to Slack when notify-success is on (globally or for the job) or when it
     * ends an open alert, and resolves the PagerDuty incident only if one is open.
     */
    static final class AlertPlan implements Step {
        AlertPlan(Map<String, String> parameters) {
            Steps.noParameters(parameters, "alert-plan");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) throws Exception {
            BackupEvent event = exchange.getIn().getMandatoryBody(BackupEvent.class);
            exchange.setProperty(EVENT, event);
            AlertSettings settings = services.alertSettings();
            boolean slack;
            boolean pagerDuty;
            if (event.kind() == BackupEvent.Kind.STARTED) {
                slack = settings.slack() && notifySuccess(services, settings, event);
                exchange.getIn().setHeader(SEND_SLACK, slack);
                exchange.getIn().setHeader(SEND_PAGERDUTY, false);
                keep(exchange, services, event, slack, false);
                return;
            }
            if (event.kind().bad()) {
                slack = settings.slack();
                pagerDuty = settings.pagerDuty();
                services.alertState().set(event.dedupKey(), true);
            } else {
                // One read and write of the state: whether it was open is what closing it changed.
                boolean wasOpen = services.alertState().set(event.dedupKey(), false);
                slack = settings.slack() && (wasOpen
                        || (notifySuccess(services, settings, event) && event.kind() == BackupEvent.Kind.SUCCESS));
                pagerDuty = settings.pagerDuty() && wasOpen;
            }
            exchange.getIn().setHeader(SEND_SLACK, slack);
            exchange.getIn().setHeader(SEND_PAGERDUTY, pagerDuty);
            keep(exchange, services, event, slack, pagerDuty);
        }

        private static void keep(Exchange exchange, StowageServices services, BackupEvent event, boolean slack,
                                 boolean pagerDuty) {
            Map<String, String> unkept = new java.util.LinkedHashMap<>();
            for (String channel : slack && pagerDuty ? List.of("slack", "pagerduty") : slack ? List.of("slack")
                    : pagerDuty ? List.of("pagerduty") : List.<String>of()) {
                try {
                    services.alertOutbox().keep(channel, event);
                } catch (java.io.IOException | RuntimeException e) {
                    // Not kept (the local repository cannot be written): alert-send still tries it once, directly.
                    LOG.debug("cannot keep the {} alert in {}", channel, services.alertOutbox().directory(), e);
                    unkept.put(channel, Failures.describe(e));
                }
            }
            exchange.setProperty(UNKEPT, unkept);
        }
    }

    /** Whether a job's successes (and starts) go to Slack: globally, or for that job (seed 004's notify_team). */
    static boolean notifySuccess(StowageServices services, AlertSettings settings, BackupEvent event) {
        return settings.slackNotifySuccess() || services.jobs().all().stream()
                .anyMatch(j -> j.name().equals(event.job()) && "true".equals(j.parameter("notifySuccess", "")));
    }

    /**
     * {@code stowage:started}: a STARTED event for the backup the headers ask for, as the body for the notify
     * route (Slack hears of it when the job's successes are announced).
     */
    static final class Started implements Step {
        Started(Map<String, String> parameters) {
            Steps.noParameters(parameters, "started");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            String jobName = exchange.getIn().getHeader("StowageJob", "unknown", String.class);
            Job job = services.jobs().all().stream().filter(j -> j.name().equals(jobName)).findFirst().orElse(null);
            exchange.setProperty("StowageStarted", Instant.now());
            exchange.getIn().setBody(new BackupEvent(BackupEvent.Kind.STARTED, jobName,
                    job == null ? "unknown" : job.engine(), exchange.getIn().getHeader(BackupRun.TYPE_HEADER, "full",
                    String.class), null, exchange.getIn().getHeader(StowageServices.TRIGGER_HEADER, "command",
                    String.class), Instant.now(), null, 0, 0, null, 0, null, AuditLog.host()));
        }
    }

    /** {@code stowage:slack-message}: the event as a Block Kit message, for camel-slack's webhook producer. */
    static final class SlackMessage implements Step {
        SlackMessage(Map<String, String> parameters) {
            Steps.noParameters(parameters, "slack-message");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            exchange.getIn().setBody(SlackMessages.of(exchange.getProperty(EVENT, BackupEvent.class)));
        }
    }

    /** {@code stowage:pagerduty-event}: the event as an Events API v2 JSON body, with the headers of a POST. */
    static final class PagerDutyEvent implements Step {
        PagerDutyEvent(Map<String, String> parameters) {
            Steps.noParameters(parameters, "pagerduty-event");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            BackupEvent event = exchange.getProperty(EVENT, BackupEvent.class);
            exchange.getIn().removeHeaders("*");
            exchange.getIn().setHeader(Exchange.HTTP_METHOD, "POST");
            exchange.getIn().setHeader(Exchange.CONTENT_TYPE, "application/json");
            exchange.getIn().setBody(PagerDutyEvents.of(event, services.alertSettings().pagerDutyRoutingKey()));
        }
    }

    /** {@code stowage:staleness}: the staleness transitions since the last check, as a list body to split. */
    static final class Staleness implements Step {
        Staleness(Map<String, String> parameters) {
            Steps.noParameters(parameters, "staleness");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            List<BackupEvent> events = services.schedules() == null ? List.of()
                    : services.schedules().checkStaleness(services.schedules().now());
            exchange.getIn().setBody(events);
        }
    }

    /**
     * {@code stowage:verify-all}: the scheduled verification: the newest backup of every job (logical or physical) is proven by
     * {@link io.stowage.verify.Verification#run} (which audits and measures it); the body becomes the list of events
     * for the notify route: a failure (type {@code verify}) for each job that did not pass, a success for each that
     * did, and for a passed one whose restore took longer than the job's objective, a failure of type {@code rto}
     * (dedup key {@code stowage/<job>/rto}); the next verification within the objective resolves it.
     */
    static final class VerifyAll implements Step {
        private final boolean criticalOnly;

        VerifyAll(Map<String, String> parameters) {
            String jobs = parameters.getOrDefault("jobs", "all").trim();
            parameters.remove("jobs");
            if (!jobs.equals("all") && !jobs.equals("critical")) {
                throw StowageException.usage("stowage:verify-all has jobs='" + jobs + "'; HINT: set "
                        + "stowage.verify.jobs to all (every job) or critical (the jobs whose severity is critical)");
            }
            criticalOnly = jobs.equals("critical");
            Steps.noParameters(parameters, "verify-all");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            List<BackupEvent> events = new java.util.ArrayList<>();
            for (Job job : services.jobs().all()) {
                if (criticalOnly && !"critical".equals(AlertSettings.severity(job.parameter("severity", null)))) {
                    continue;
                }
                io.stowage.verify.Verification.Outcome outcome = new io.stowage.verify.Verification(services,
                        warning -> LOG.warn("verification of job {}: {}", job.name(), warning))
                        .waitingForOthers(java.time.Duration.ofSeconds(job.rtoSeconds())).run(job, "latest");
                String error = outcome.passed() ? null : Failures.describe(outcome.failure());
                String id = outcome.passed() ? outcome.backupId() : null;
                if (error != null) {
                    LOG.error("verification of job {} failed: {}", job.name(), error);
                }
                String severity = AlertSettings.severity(job.parameter("severity", null));
                events.add(new BackupEvent(error == null ? BackupEvent.Kind.SUCCESS : BackupEvent.Kind.FAILURE,
                        job.name(), job.engine(), "verify", id, "schedule", Instant.now(), outcome.took(), 0, 0, error,
                        1, severity, AuditLog.host()));
                if (outcome.passed()) {
                    io.stowage.verify.Verification.Result result = outcome.result();
                    String rtoKey = "stowage/" + job.name() + "/rto";
                    if (!result.rtoMet()) {
                        String missed = String.format(java.util.Locale.ROOT, "the restore took %.1f s, over the RTO "
                                + "objective of %d s", result.restoreTime().toMillis() / 1000.0, result.rtoSeconds());
                        LOG.warn("verification of job {}: {}", job.name(), missed);
                        events.add(new BackupEvent(BackupEvent.Kind.FAILURE, job.name(), job.engine(), "rto", id,
                                "schedule", Instant.now(), result.restoreTime(), 0, 0, missed, 1, "warning",
                                AuditLog.host()));
                    } else if (services.alertState().isOpen(rtoKey)) {
                        events.add(new BackupEvent(BackupEvent.Kind.SUCCESS, job.name(), job.engine(), "rto", id,
                                "schedule", Instant.now(), result.restoreTime(), 0, 0, null, 1, "warning",
                                AuditLog.host()));
                    }
                }
            }
            exchange.getIn().setBody(events);
        }
    }

    /**
     * {@code stowage:alert-failed?channel=slack}: for route files from before the outbox ({@code stowage:alert-send}),
     * whose notify route sends in a {@code doTry}: an alert that could not be sent is logged, never fatal.
     */
    static final class AlertFailed implements Step {
        private final String channel;

        AlertFailed(Map<String, String> parameters) {
            channel = Steps.required(parameters, "channel", "alert-failed");
            Steps.noParameters(parameters, "alert-failed");
        }

        @Override
        public void process(Exchange exchange, StowageServices services) {
            Throwable failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
            BackupEvent event = exchange.getProperty(EVENT, BackupEvent.class);
            LOG.error("cannot send the {} alert for job {}: {}", channel, event == null ? "?" : event.job(),
                    failure == null ? "unknown error" : Failures.describe(failure));
        }
    }
}
