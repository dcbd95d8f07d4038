package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.ManagementServer;
import io.stowage.runtime.StowageService;
import io.stowage.testing.BackupHistory;
import io.stowage.testing.HttpReceiver;
import io.stowage.testing.ManagementClient;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Undeletable;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.util.List;
import org.apache.camel.Exchange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service expires a job after each of its successful backups (run-backup, then expire-job): with
 * {@code retention: 1} the second backup takes the first one away. An expiry that fails (a backup directory that
 * cannot be deleted from) alerts real Slack and PagerDuty receivers and leaves the backup that ran before it a
 * success; the next expiry that works resolves the incident.
 */
class ExpiryServiceTest {
    private static final String SOURCE = "expiry_service_source";
    private static final String JOB = "postgres";
    private static final String ROUTING_KEY = "R0UTING-KEY-expiry-0123456789";
    private static final String SLACK = "/slack/T000/B000/XXXX";
    private static final String PAGERDUTY = "/v2/enqueue";

    @TempDir
    Path dir;

    private HttpReceiver receiver;
    private StowageService service;
    /** A directory made undeletable, made deletable again whatever the outcome. */
    private Undeletable locked;

    @BeforeAll
    static void createSource() {
        ThrowawayPostgres.get().createDatabase(SOURCE, "CREATE TABLE t (id int PRIMARY KEY)",
                "INSERT INTO t SELECT generate_series(1, 100)");
    }

    @AfterAll
    static void dropSource() {
        ThrowawayPostgres.get().dropDatabase(SOURCE);
    }

    @AfterEach
    void stop() throws Exception {
        if (locked != null) {
            locked.close();
        }
        if (service != null) {
            service.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    private Workspace workspace() throws Exception {
        return new Workspace(dir)
                .job(JOB, SOURCE, "retention", "1")
                .property("stowage.alert.slack.webhook-url", receiver.url(SLACK))
                .property("camel.component.slack.webhook-url", receiver.url(SLACK))
                .property("stowage.alert.pagerduty.routing-key", ROUTING_KEY)
                .property("stowage.alert.pagerduty.url", receiver.url(PAGERDUTY))
                .property("stowage.staleness.first-check-ms", "3600000")
                .property("camel.management.enabled", "true")
                .property("camel.management.metrics-enabled", "true")
                .property("camel.metrics.enabled", "true")
                .property("camel.metrics.skip-camel-info", "true");
    }

    /** One series of the running service's metrics, scraped over HTTP; NaN when it is not exported. */
    private double metric(String series) throws Exception {
        String metrics = ManagementClient.get(ManagementServer.port(service.runtime().context()), "/observe/metrics");
        assertThat(metrics).startsWith("200 ");
        return ManagementClient.sample(metrics, series).orElse(Double.NaN);
    }

    /** A backup as the schedule route triggers it; it must succeed. Returns the new backup's id. */
    private String scheduledBackup(Workspace ws) throws Exception {
        Thread.sleep(1000); // backup ids are to the second
        Exchange done = service.runtime().context().createProducerTemplate().send("direct:run-backup", e -> {
            e.getIn().setHeader("StowageJob", JOB);
            e.getIn().setHeader("StowageBackupType", "full");
            e.getIn().setHeader("StowageTrigger", "schedule");
        });
        assertThat(done.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class)).isNull();
        assertThat(done.getException()).isNull();
        List<String> ids = BackupHistory.directories(ws.repository(), JOB);
        return ids.get(ids.size() - 1);
    }

    private List<JsonNode> bodies(String path) throws Exception {
        List<JsonNode> bodies = new java.util.ArrayList<>();
        for (HttpReceiver.Request request : receiver.requests(path)) {
            bodies.add(ManifestCodec.JSON.readTree(request.body()));
        }
        return bodies;
    }

    @Test
    void should_warn_and_still_succeed_when_a_backup_commands_expiry_fails() throws Exception {
        receiver = new HttpReceiver();
        Workspace ws = workspace();
        Workspace.Result first = ws.run("backup", JOB);
        assertThat(first.status()).as(first.toString()).isZero();
        Thread.sleep(1000);
        Workspace.Result second;
        try (Undeletable stuck = Undeletable.of(ws.repository().resolve(JOB).resolve(first.lastLine()))) {
            second = ws.run("backup", JOB);
        }
        assertThat(second.status()).as(second.toString()).isZero();
        assertThat(second.lastLine()).as(second.toString()).matches("\\d{8}T\\d{6}Z-F").isNotEqualTo(first.lastLine());
        assertThat(second.err().lines().toList()).as(second.toString()).isNotEmpty()
                .allMatch(l -> l.startsWith("warning: ")).anyMatch(l -> l.contains("expiry failed")
                        && l.contains(first.lastLine()));
        assertThat(bodies(PAGERDUTY)).singleElement().satisfies(e -> assertThat(e.get("dedup_key").asText())
                .isEqualTo("stowage/postgres/expire"));
        Thread.sleep(1000);
        Workspace.Result third = ws.run("backup", JOB);
        assertThat(third.status()).as(third.toString()).isZero();
        assertThat(third.err()).as(third.toString()).isEmpty();
        assertThat(BackupHistory.directories(ws.repository(), JOB)).containsExactly(third.lastLine());
    }

    @Test
    void should_expire_every_job_on_the_expiry_cron() throws Exception {
        receiver = new HttpReceiver();
        Workspace seed = new Workspace(dir.resolve("seed")).job(JOB, SOURCE);
        Workspace.Result backup = seed.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isZero();
        Workspace ws = new Workspace(dir.resolve("ws")).job(JOB, SOURCE, "retention", "1")
                .property("stowage.expire.cron", "0/2 * * * * ?");
        java.time.Instant now = java.time.Instant.now();
        List<String> ids = new java.util.ArrayList<>();
        for (int days : new int[] {3, 2, 1}) {
            ids.add(BackupHistory.copy(seed.repository().resolve(JOB).resolve(backup.lastLine()), ws.repository(),
                    JOB, now.minus(java.time.Duration.ofDays(days)), io.stowage.catalog.BackupType.FULL, null));
        }
        service = ws.service();
        long deadline = System.currentTimeMillis() + 30_000;
        while (BackupHistory.directories(ws.repository(), JOB).size() > 1 && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(BackupHistory.directories(ws.repository(), JOB)).containsExactly(ids.get(2));
    }

    @Test
    void should_expire_after_each_backup_and_alert_when_expiry_fails_without_failing_the_backup() throws Exception {
        receiver = new HttpReceiver();
        Workspace ws = workspace();
        service = ws.service();

        String first = scheduledBackup(ws);
        String second = scheduledBackup(ws);
        assertThat(second).isNotEqualTo(first);
        assertThat(BackupHistory.directories(ws.repository(), JOB)).containsExactly(second);
        assertThat(BackupHistory.ids(ws.run("list", JOB, "--json").out())).containsExactly(second);
        assertThat(receiver.requests(PAGERDUTY)).isEmpty();
        assertThat(receiver.requests(SLACK)).isEmpty();
        assertThat(metric("stowage_expired_backups_total{job=\"postgres\",repository=\"local\"}")).isEqualTo(1.0);
        long stored = ManifestCodec.JSON.readTree(ws.repository().resolve(JOB).resolve(second)
                .resolve("manifest.json").toFile()).get("storedBytes").asLong();
        assertThat(metric("stowage_repository_stored_bytes{job=\"postgres\",repository=\"local\","
                + "storage_class=\"local\"}")).isEqualTo((double) stored);

        // The backup to expire next cannot be deleted: the backup still succeeds, and the expiry alerts.
        locked = Undeletable.of(ws.repository().resolve(JOB).resolve(second));
        String third = scheduledBackup(ws);
        assertThat(ws.repository().resolve(JOB).resolve(third).resolve("manifest.json")).exists();
        assertThat(BackupHistory.ids(ws.run("list", JOB, "--json").out())).containsExactly(second, third);

        List<JsonNode> triggers = bodies(PAGERDUTY);
        assertThat(triggers).as(receiver.requests(PAGERDUTY).toString()).hasSize(1);
        JsonNode trigger = triggers.get(0);
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo("stowage/postgres/expire");
        assertThat(trigger.get("payload").get("class").asText()).isEqualTo("expiry-failure");
        assertThat(trigger.get("payload").get("summary").asText()).startsWith("Expiry failed: postgres")
                .contains(second).contains("repository 'local'");
        List<JsonNode> slack = bodies(SLACK);
        assertThat(slack).hasSize(1);
        assertThat(slack.get(0).get("text").asText()).startsWith(":warning: Expiry failed: postgres")
                .contains(second);
        assertThat(receiver.requests(PAGERDUTY).toString()).doesNotContain("Backup failed");

        // Deletable again: the next backup's expiry takes both older ones and resolves the incident.
        receiver.clear();
        locked.close();
        String fourth = scheduledBackup(ws);
        assertThat(BackupHistory.directories(ws.repository(), JOB)).containsExactly(fourth);
        assertThat(metric("stowage_expired_backups_total{job=\"postgres\",repository=\"local\"}")).isEqualTo(3.0);
        List<JsonNode> resolves = bodies(PAGERDUTY);
        assertThat(resolves).hasSize(1);
        assertThat(resolves.get(0).get("event_action").asText()).isEqualTo("resolve");
        assertThat(resolves.get(0).get("dedup_key").asText()).isEqualTo("stowage/postgres/expire");
        assertThat(bodies(SLACK)).singleElement().satisfies(m -> assertThat(m.get("text").asText())
                .startsWith(":white_check_mark: Expiry works again: postgres"));
    }
}
