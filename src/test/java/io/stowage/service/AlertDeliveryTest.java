package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.StowageService;
import io.stowage.testing.HttpReceiver;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerts never change a backup's outcome: with Slack and PagerDuty unreachable (a closed port), a good backup still
 * exits 0 with its id, a failed one still reports its own cause, and what could not be sent is kept beside the
 * alert state until the service delivers it, in order, once the receiver is back.
 */
class AlertDeliveryTest {
    private static final String SOURCE = "alert_source";
    private static final String ROUTING_KEY = "R0UTING-KEY-alerts-0123456789";
    private static final String SLACK = "/slack/T000/B000/XXXX";
    private static final String PAGERDUTY = "/v2/enqueue";

    @TempDir
    Path dir;

    private HttpReceiver receiver;
    private StowageService service;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    /** A workspace whose alerts go to 127.0.0.1:{@code alertPort}, and whose job reaches the database on dbPort. */
    private Workspace workspace(int alertPort, int dbPort) throws Exception {
        String slack = "http://127.0.0.1:" + alertPort + SLACK;
        return new Workspace(dir)
                .job("postgres", SOURCE, "port", Integer.toString(dbPort))
                .property("stowage.alert.slack.webhook-url", slack)
                .property("camel.component.slack.webhook-url", slack)
                .property("stowage.alert.pagerduty.routing-key", ROUTING_KEY)
                .property("stowage.alert.pagerduty.url", "http://127.0.0.1:" + alertPort + PAGERDUTY)
                .property("stowage.alert.retry.check-interval-ms", "100")
                .property("stowage.alert.retry.delay-ms", "100")
                .property("stowage.staleness.first-check-ms", "3600000")
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
    }

    private static int closedPort() throws Exception {
        try (HttpReceiver gone = new HttpReceiver()) {
            return gone.port();
        }
    }

    private Path outbox() {
        return dir.resolve("backups/.alerts-outbox");
    }

    private List<Path> kept() throws Exception {
        if (!Files.isDirectory(outbox())) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(outbox())) {
            return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    private static List<String> lines(String text) {
        return text.strip().isEmpty() ? List.of() : text.strip().lines().toList();
    }

    @Test
    void should_exit_0_and_print_the_id_when_the_alerts_of_a_backup_that_resolves_a_failure_cannot_be_sent()
            throws Exception {
        receiver = new HttpReceiver();
        int alertPort = receiver.port();
        Workspace ws = workspace(alertPort, ThrowawayPostgres.freePort());
        Workspace.Result failed = ws.run("backup", "postgres");
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(receiver.requests(PAGERDUTY)).hasSize(1);

        // Slack and PagerDuty go away; the database comes back: this backup resolves the open incident.
        receiver.close();
        receiver = null;
        ws.job("postgres", SOURCE);
        Workspace.Result good = ws.run("backup", "postgres");

        assertThat(good.status()).as(good.toString()).isZero();
        assertThat(good.lastLine()).as(good.toString()).matches("\\d{8}T\\d{6}Z-F");
        assertThat(dir.resolve("backups/postgres").resolve(good.lastLine()).resolve("manifest.json")).exists();
        assertThat(lines(good.err())).as(good.toString()).isNotEmpty().allMatch(l -> l.startsWith("warning: "));
        assertThat(good.err()).contains("pagerduty alert").contains("slack alert").contains("kept")
                .doesNotContain(ROUTING_KEY).doesNotContain(SLACK);
        assertThat(kept()).hasSize(2);
    }

    @Test
    void should_report_the_backups_own_cause_when_the_alert_receiver_is_down_and_deliver_it_once_it_is_back()
            throws Exception {
        int alertPort = closedPort();
        int dbPort = ThrowawayPostgres.freePort();
        Workspace ws = workspace(alertPort, dbPort);

        Workspace.Result failed = ws.run("backup", "postgres");
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(failed.out()).isEmpty();
        List<String> err = lines(failed.err());
        assertThat(err.get(err.size() - 1)).as(failed.toString())
                .startsWith("error: backup of job 'postgres' failed: cannot connect to PostgreSQL at 127.0.0.1:" + dbPort)
                .doesNotContain(Integer.toString(alertPort));
        assertThat(err.subList(0, err.size() - 1)).as(failed.toString()).allMatch(l -> l.startsWith("warning: "));

        // The next backup succeeds: its resolve is kept behind the trigger.
        ws.job("postgres", SOURCE);
        Workspace.Result good = ws.run("backup", "postgres");
        assertThat(good.status()).as(good.toString()).isZero();

        // Kept durably, readable by Stowage's user only, and without the secrets that sending needs.
        List<Path> kept = kept();
        assertThat(kept).hasSize(4);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(outbox()))).isEqualTo("rwx------");
        for (Path file : kept) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            assertThat(Files.readString(file)).doesNotContain(ROUTING_KEY).doesNotContain(SLACK);
        }

        // The receivers come back where they were; the service sends what was kept, oldest first, once.
        receiver = new HttpReceiver(alertPort);
        service = ws.service();
        long deadline = System.currentTimeMillis() + 30_000;
        while ((receiver.requests(PAGERDUTY).size() < 2 || receiver.requests(SLACK).size() < 2 || !kept().isEmpty())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(kept()).isEmpty();
        List<HttpReceiver.Request> pagerDuty = receiver.requests(PAGERDUTY);
        assertThat(pagerDuty).hasSize(2);
        JsonNode trigger = ManifestCodec.JSON.readTree(pagerDuty.get(0).body());
        JsonNode resolve = ManifestCodec.JSON.readTree(pagerDuty.get(1).body());
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("routing_key").asText()).isEqualTo(ROUTING_KEY);
        assertThat(trigger.get("payload").get("summary").asText()).startsWith("Backup failed: postgres (full): "
                + "cannot connect to PostgreSQL at 127.0.0.1:" + dbPort);
        assertThat(resolve.get("event_action").asText()).isEqualTo("resolve");
        assertThat(resolve.get("dedup_key").asText()).isEqualTo(trigger.get("dedup_key").asText())
                .isEqualTo("stowage/postgres/full");
        List<HttpReceiver.Request> slack = receiver.requests(SLACK);
        assertThat(slack).hasSize(2);
        assertThat(ManifestCodec.JSON.readTree(slack.get(0).body()).get("text").asText())
                .startsWith(":rotating_light: Backup failed: postgres (full)");
        assertThat(ManifestCodec.JSON.readTree(slack.get(1).body()).get("text").asText())
                .startsWith(":white_check_mark: Backup succeeded: postgres (full)");
    }

    @Test
    void should_drop_an_alert_the_channel_refuses_for_good_instead_of_holding_back_the_next() throws Exception {
        receiver = new HttpReceiver();
        receiver.status(400);
        Workspace ws = workspace(receiver.port(), ThrowawayPostgres.freePort());
        Workspace.Result failed = ws.run("backup", "postgres");
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(failed.err()).as(failed.toString())
                .contains("warning: the slack alert for job postgres (full backup failed) was dropped: slack refused "
                        + "it (HTTP 400)")
                .contains("warning: the pagerduty alert for job postgres (full backup failed) was dropped: pagerduty "
                        + "refused it (HTTP 400)");
        assertThat(kept()).isEmpty();

        // Nothing waits behind the refused alerts: the next ones go out at once.
        receiver.status(200);
        receiver.clear();
        ws.job("postgres", SOURCE);
        Workspace.Result good = ws.run("backup", "postgres");
        assertThat(good.status()).as(good.toString()).isZero();
        assertThat(good.err()).as(good.toString()).isEmpty();
        assertThat(receiver.requests(PAGERDUTY)).hasSize(1);
        assertThat(ManifestCodec.JSON.readTree(receiver.requests(PAGERDUTY).get(0).body()).get("event_action")
                .asText()).isEqualTo("resolve");
        assertThat(receiver.requests(SLACK)).hasSize(1);
    }

    @Test
    void should_set_aside_a_kept_alert_that_holds_no_whole_event_and_send_the_alerts_behind_it() throws Exception {
        receiver = new HttpReceiver();
        Workspace ws = workspace(receiver.port(), ThrowawayPostgres.freePort());
        // Ahead of what this backup keeps: an empty file, and one in another release's shape (no job, type or time).
        Files.createDirectories(outbox());
        Files.writeString(outbox().resolve("000000000001-slack.json"), "");
        Files.writeString(outbox().resolve("000000000002-pagerduty.json"),
                "{\"channel\":\"pagerduty\",\"event\":{\"kind\":\"FAILURE\"}}");

        Workspace.Result failed = ws.run("backup", "postgres");

        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        // This backup's alerts go out: nothing unsendable holds them back.
        assertThat(receiver.requests(SLACK)).as(failed.toString()).hasSize(1);
        assertThat(receiver.requests(PAGERDUTY)).as(failed.toString()).hasSize(1);
        assertThat(ManifestCodec.JSON.readTree(receiver.requests(PAGERDUTY).get(0).body()).get("dedup_key").asText())
                .isEqualTo("stowage/postgres/full");
        assertThat(kept()).isEmpty();
        assertThat(outbox().resolve("000000000001-slack.json.damaged")).exists();
        assertThat(outbox().resolve("000000000002-pagerduty.json.damaged")).exists();
        assertThat(failed.err()).as(failed.toString())
                .contains("warning: the slack alert was dropped: unreadable")
                .contains("set aside as 000000000001-slack.json.damaged")
                .contains("warning: the pagerduty alert was dropped: unreadable")
                .contains("set aside as 000000000002-pagerduty.json.damaged");
    }

    @Test
    void should_leave_kept_alerts_to_the_service_when_a_command_runs_without_their_channel_configured()
            throws Exception {
        int alertPort = closedPort();
        int dbPort = ThrowawayPostgres.freePort();
        Workspace ws = workspace(alertPort, dbPort);
        Workspace.Result failed = ws.run("backup", "postgres");
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(kept()).hasSize(2);

        // An operator's shell without the service's environment: no webhook, no routing key.
        Path config = dir.resolve("application.properties");
        String full = Files.readString(config);
        Files.writeString(config, full.lines().filter(l -> !l.contains("webhook-url") && !l.contains("routing-key"))
                .map(l -> l + "\n").reduce("", String::concat));
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int status = io.stowage.Stowage.execute(new String[] {"--config", config.toString(), "backup", "postgres"},
                new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));

        assertThat(status).as(err.toString()).isEqualTo(1);
        assertThat(err.toString()).doesNotContain("dropped");
        assertThat(kept()).as("the service's alerts, still kept").hasSize(2);

        // The service, which has the channels, sends them once they can be reached.
        receiver = new HttpReceiver(alertPort);
        service = ws.service();
        long deadline = System.currentTimeMillis() + 30_000;
        while ((receiver.requests(PAGERDUTY).isEmpty() || receiver.requests(SLACK).isEmpty() || !kept().isEmpty())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(kept()).isEmpty();
        assertThat(receiver.requests(PAGERDUTY)).hasSize(1);
        assertThat(ManifestCodec.JSON.readTree(receiver.requests(PAGERDUTY).get(0).body()).get("event_action").asText())
                .isEqualTo("trigger");
        assertThat(receiver.requests(SLACK)).hasSize(1);
    }
}
