package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.StowageException;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.ManagementServer;
import io.stowage.runtime.StowageService;
import io.stowage.schedule.ScheduleService;
import io.stowage.testing.FlakyTcpProxy;
import io.stowage.testing.HttpReceiver;
import io.stowage.testing.ManagementClient;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service: scheduled backups retried, alerted once to real Slack and PagerDuty receivers and resolved after a
 * success; staleness firing and clearing; catch-up after downtime; metrics scraped and health read over HTTP.
 * Triggers are sent the way the schedule route sends them, and time is moved, never waited for.
 */
class ServiceTest {
    private static final String SOURCE = "service_source";
    private static final String ROUTING_KEY = "R0UTING-KEY-0123456789abcdef";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    private HttpReceiver receiver;
    private FlakyTcpProxy database;
    private StowageService service;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
    }

    @BeforeEach
    void peers() throws Exception {
        receiver = new HttpReceiver();
        // The job reaches PostgreSQL through a proxy the test can take down and bring back.
        database = new FlakyTcpProxy(pg.port(), Long.MAX_VALUE);
    }

    @AfterEach
    void stop() throws Exception {
        if (service != null) {
            service.close();
        }
        receiver.close();
        database.close();
    }

    private Workspace workspace() throws Exception {
        return workspace(dir);
    }

    private Workspace workspace(Path where) throws Exception {
        return new Workspace(where)
                .job("postgres", SOURCE, "port", Integer.toString(database.port()), "severity", "critical")
                .schedule("postgres", "full", "0 0 1 ? * SUN")
                .property("stowage.alert.slack.webhook-url", receiver.url("/slack/T000/B000/XXXX"))
                .property("stowage.alert.slack.channel", "#db-backups")
                .property("camel.component.slack.webhook-url", receiver.url("/slack/T000/B000/XXXX"))
                .property("stowage.alert.pagerduty.routing-key", ROUTING_KEY)
                .property("stowage.alert.pagerduty.url", receiver.url("/v2/enqueue"))
                .property("stowage.retry.attempts", "3")
                .property("stowage.retry.delay-ms", "20")
                .property("stowage.retry.max-delay-ms", "50")
                .property("stowage.staleness.first-check-ms", "3600000")
                .property("camel.management.enabled", "true")
                .property("camel.management.health-check-enabled", "true")
                .property("camel.management.metrics-enabled", "true")
                .property("camel.metrics.enabled", "true")
                .property("camel.metrics.skip-camel-info", "true");
    }

    private void scheduledBackup(String job) {
        ProducerTemplate producer = service.runtime().context().createProducerTemplate();
        producer.send("direct:run-backup", exchange -> {
            exchange.getIn().setHeader("StowageJob", job);
            exchange.getIn().setHeader("StowageBackupType", "full");
            exchange.getIn().setHeader("StowageTrigger", "schedule");
        });
    }

    /** The local audit log's lines (operation and result), for failure messages. */
    private List<String> auditLines() {
        try (Stream<Path> files = Files.list(dir.resolve("backups/audit"))) {
            List<String> lines = new java.util.ArrayList<>();
            for (Path file : files.toList()) {
                for (String line : Files.readAllLines(file)) {
                    JsonNode entry = json(line);
                    lines.add(entry.path("operation").asText() + ":" + entry.path("result").asText());
                }
            }
            return lines;
        } catch (Exception e) {
            return List.of("unreadable: " + e);
        }
    }

    private static JsonNode json(String body) throws Exception {
        return ManifestCodec.JSON.readTree(body);
    }

    /** GET on the running service's management server, on the port it really listens on (the tests ask for 0). */
    private String get(String path) throws Exception {
        return get(ManagementServer.port(service.runtime().context()), path);
    }

    /** One request, and a time-out that fails the test rather than hanging the suite. */
    private static String get(int port, String path) throws Exception {
        assertThat(port).as("the management server listens").isPositive();
        return ManagementClient.get(port, path);
    }

    @Test
    void should_retry_a_transient_failure_alert_once_and_resolve_after_the_next_success() throws Exception {
        service = workspace().service();
        database.down(true);
        scheduledBackup("postgres");

        List<HttpReceiver.Request> slack = receiver.requests("/slack/T000/B000/XXXX");
        List<HttpReceiver.Request> pagerDuty = receiver.requests("/v2/enqueue");
        assertThat(slack).hasSize(1);
        assertThat(pagerDuty).hasSize(1);

        JsonNode trigger = json(pagerDuty.get(0).body());
        assertThat(pagerDuty.get(0).method()).isEqualTo("POST");
        assertThat(pagerDuty.get(0).contentType()).startsWith("application/json");
        // The whole event, exactly, but for the values that change from run to run.
        com.fasterxml.jackson.databind.node.ObjectNode comparable = trigger.deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) comparable.get("payload")).put("timestamp", "T")
                .put("summary", "S").put("source", "H");
        assertThat(comparable).isEqualTo(json("{\"routing_key\":\"" + ROUTING_KEY + "\",\"dedup_key\":"
                + "\"stowage/postgres/full\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"S\","
                + "\"source\":\"H\",\"severity\":\"critical\",\"timestamp\":\"T\",\"component\":\"postgres\","
                + "\"group\":\"postgresql\",\"class\":\"backup-failure\",\"custom_details\":{\"job\":"
                + "\"postgres\",\"type\":\"full\",\"trigger\":\"schedule\",\"attempts\":3,\"error\":"
                + trigger.get("payload").get("custom_details").get("error").toString() + "}}}"));
        assertThat(trigger.get("routing_key").asText()).isEqualTo(ROUTING_KEY);
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo("stowage/postgres/full");
        JsonNode payload = trigger.get("payload");
        assertThat(payload.get("severity").asText()).isEqualTo("critical");
        assertThat(payload.get("summary").asText()).startsWith("Backup failed: postgres (full): cannot connect to "
                + "PostgreSQL at 127.0.0.1:" + database.port());
        assertThat(payload.get("component").asText()).isEqualTo("postgres");
        assertThat(payload.get("group").asText()).isEqualTo("postgresql");
        assertThat(payload.get("class").asText()).isEqualTo("backup-failure");
        assertThat(payload.get("custom_details").get("attempts").asInt()).isEqualTo(3);
        assertThat(payload.get("custom_details").get("trigger").asText()).isEqualTo("schedule");
        assertThat(Instant.parse(payload.get("timestamp").asText())).isBefore(Instant.now().plusSeconds(1));

        JsonNode message = json(slack.get(0).body());
        assertThat(slack.get(0).method()).isEqualTo("POST");
        assertThat(message.get("channel").asText()).isEqualTo("#db-backups");
        // Exactly these fields, in this order: what the on-call reads first.
        List<String> fieldTitles = new java.util.ArrayList<>();
        message.get("blocks").get(1).get("fields").forEach(f -> fieldTitles.add(f.get("text").asText().split("\n")[0]));
        assertThat(fieldTitles).containsExactly("*Job*", "*Type*", "*Duration*", "*Attempts*", "*Host*");
        assertThat(message.get("blocks").get(1).get("fields").get(0)).isEqualTo(json(
                "{\"type\":\"mrkdwn\",\"text\":\"*Job*\\npostgres\"}"));
        assertThat(message.get("text").asText()).startsWith(":rotating_light: Backup failed: postgres (full): "
                + "cannot connect to PostgreSQL");
        JsonNode blocks = message.get("blocks");
        assertThat(blocks).hasSize(3);
        assertThat(blocks.get(0).get("type").asText()).isEqualTo("header");
        assertThat(blocks.get(0).get("text").get("text").asText()).isEqualTo(":rotating_light: Backup failed: postgres (full)");
        assertThat(blocks.get(1).get("type").asText()).isEqualTo("section");
        assertThat(blocks.get(1).get("fields").toString()).contains("*Job*\\npostgres").contains("*Type*\\nfull")
                .contains("*Attempts*\\n3").contains("*Duration*");
        assertThat(blocks.get(2).get("text").get("type").asText()).isEqualTo("mrkdwn");
        assertThat(blocks.get(2).get("text").get("text").asText()).startsWith("```cannot connect to PostgreSQL");

        // The next success resolves the incident with the same key, and Slack hears of the recovery.
        receiver.clear();
        database.down(false);
        scheduledBackup("postgres");
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);
        JsonNode resolve = json(receiver.requests("/v2/enqueue").get(0).body());
        assertThat(resolve).isEqualTo(json("{\"routing_key\":\"" + ROUTING_KEY + "\",\"dedup_key\":"
                + "\"stowage/postgres/full\",\"event_action\":\"resolve\"}"));
        assertThat(receiver.requests("/slack/T000/B000/XXXX")).hasSize(1);
        JsonNode recovered = json(receiver.requests("/slack/T000/B000/XXXX").get(0).body());
        assertThat(recovered.get("text").asText()).startsWith(":white_check_mark: Backup succeeded: postgres (full)");
        assertThat(recovered.get("blocks").get(1).get("fields").toString()).contains("*Backup*\\n`2");

        // Another success after that sends nothing: nothing is open.
        receiver.clear();
        scheduledBackup("postgres");
        assertThat(receiver.requests("/v2/enqueue")).isEmpty();
        assertThat(receiver.requests("/slack/T000/B000/XXXX")).isEmpty();

        // Metrics: scraped over HTTP, in Prometheus text format.
        String metrics = get("/observe/metrics");
        assertThat(metrics).startsWith("200 ");
        assertThat(sample(metrics, "stowage_backup_failures_total{job=\"postgres\",type=\"full\"}")).isEqualTo(1.0);
        io.micrometer.core.instrument.Timer recorded = service.runtime().services().metrics().registry()
                .find("stowage.backup.duration").tag("job", "postgres").tag("type", "full").timer();
        assertThat(recorded).isNotNull();
        assertThat(sample(metrics, "stowage_backup_duration_seconds_count{job=\"postgres\",type=\"full\"}"))
                .as("scraped; recorded in the registry: %s; audit: %s; exposition:%n%s", recorded.count(),
                        auditLines(), metrics.lines().filter(l -> l.startsWith("stowage_backup_duration"))
                                .reduce("", (a, b) -> a + b + "\n"))
                .isEqualTo(2.0);
        assertThat(sample(metrics, "stowage_backup_last_success_timestamp_seconds{job=\"postgres\",type=\"full\"}"))
                .isGreaterThan(Instant.now().minusSeconds(60).getEpochSecond());
        assertThat(sample(metrics, "stowage_backup_size_bytes{job=\"postgres\",type=\"full\"}")).isPositive();
        assertThat(metrics).contains("camel_exchanges_total");

        // The audit log has one line per backup: the failure, then the successes.
        Path audit;
        try (Stream<Path> files = Files.list(dir.resolve("backups/audit"))) {
            audit = files.findFirst().orElseThrow();
        }
        List<JsonNode> lines = Files.readAllLines(audit).stream().map(l -> {
            try {
                return json(l);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
        assertThat(lines.stream().map(l -> l.get("command").asText() + ":" + l.get("result").asText()).toList())
                .containsExactly("service-start:success", "backup:failure", "backup:success", "backup:success");
        assertThat(lines.get(1).get("job").asText()).isEqualTo("postgres");
        assertThat(lines.get(1).get("user").asText()).isEqualTo(System.getProperty("user.name"));
        assertThat(lines.get(2).get("backupId").asText()).matches("\\d{8}T\\d{6}Z-F");
        assertThat(String.join("\n", Files.readAllLines(audit))).doesNotContain(ThrowawayPostgres.PASSWORD);
    }

    @Test
    void should_resolve_the_incident_a_backup_command_opened_while_the_service_runs() throws Exception {
        Workspace ws = workspace();
        service = ws.service();

        // An operator's own backup fails beside the running service: it opens the incident.
        database.down(true);
        Workspace.Result failed = ws.run("backup", "postgres");
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);
        assertThat(json(receiver.requests("/v2/enqueue").get(0).body()).get("event_action").asText())
                .isEqualTo("trigger");

        // The service's next backup succeeds: it closes that incident, and Slack hears of the recovery.
        receiver.clear();
        database.down(false);
        scheduledBackup("postgres");
        assertThat(receiver.requests("/v2/enqueue")).as("the resolve").hasSize(1);
        assertThat(json(receiver.requests("/v2/enqueue").get(0).body())).isEqualTo(json("{\"routing_key\":\""
                + ROUTING_KEY + "\",\"dedup_key\":\"stowage/postgres/full\",\"event_action\":\"resolve\"}"));
        assertThat(receiver.requests("/slack/T000/B000/XXXX")).hasSize(1);
        assertThat(json(receiver.requests("/slack/T000/B000/XXXX").get(0).body()).get("text").asText())
                .startsWith(":white_check_mark: Backup succeeded: postgres (full)");

        // And a success the command takes after that announces nothing again: nothing is open.
        receiver.clear();
        Workspace.Result good = ws.run("backup", "postgres");
        assertThat(good.status()).as(good.toString()).isZero();
        assertThat(receiver.requests("/v2/enqueue")).isEmpty();
        assertThat(receiver.requests("/slack/T000/B000/XXXX")).isEmpty();
    }

    @Test
    void should_announce_start_and_end_of_a_job_whose_successes_are_announced() throws Exception {
        service = workspace().job("postgres", SOURCE, "port", Integer.toString(database.port()), "notifySuccess", "true")
                .service();
        scheduledBackup("postgres");
        List<HttpReceiver.Request> slack = receiver.requests("/slack/T000/B000/XXXX");
        assertThat(slack).hasSize(2);
        assertThat(json(slack.get(0).body()).get("text").asText()).isEqualTo(":hourglass_flowing_sand: Backup started: postgres (full)");
        JsonNode done = json(slack.get(1).body());
        assertThat(done.get("text").asText()).isEqualTo(":white_check_mark: Backup succeeded: postgres (full)");
        assertThat(done.get("blocks").get(1).get("fields").toString()).contains("*Size*").contains("stored)");
        assertThat(receiver.requests("/v2/enqueue")).isEmpty();
    }

    @Test
    void should_not_retry_a_wrong_password() throws Exception {
        service = new Workspace(dir)
                .job("postgres", SOURCE, "password", "wrong-password", "severity", "low")
                .property("stowage.alert.pagerduty.routing-key", ROUTING_KEY)
                .property("stowage.alert.pagerduty.url", receiver.url("/v2/enqueue"))
                .property("stowage.retry.attempts", "3")
                .property("stowage.retry.delay-ms", "2000")
                .service();
        long started = System.nanoTime();
        scheduledBackup("postgres");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
        JsonNode trigger = json(receiver.requests("/v2/enqueue").get(0).body());
        assertThat(trigger.get("payload").get("custom_details").get("attempts").asInt()).isEqualTo(1);
        assertThat(trigger.get("payload").get("severity").asText()).isEqualTo("info");
        assertThat(trigger.get("payload").get("summary").asText()).contains("password authentication failed")
                .doesNotContain("wrong-password");
    }

    @Test
    void should_alert_when_a_job_goes_stale_and_clear_when_it_is_fresh_again() throws Exception {
        service = workspace().service();
        scheduledBackup("postgres");
        receiver.clear();
        AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
        ScheduleService schedules = new ScheduleService(service.runtime().services(),
                service.runtime().services().schedules().schedules(), Duration.ofHours(1), now::get);
        service.runtime().services().schedules(schedules);
        ProducerTemplate producer = service.runtime().context().createProducerTemplate();

        producer.sendBody("direct:check-staleness", null);
        assertThat(receiver.requests("/v2/enqueue")).isEmpty();

        // Eight days on, a weekly schedule's last success is more than 7 days + 1 hour old.
        now.set(now.get().plus(Duration.ofDays(8)));
        producer.sendBody("direct:check-staleness", null);
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);
        JsonNode trigger = json(receiver.requests("/v2/enqueue").get(0).body());
        assertThat(trigger.get("event_action").asText()).isEqualTo("trigger");
        assertThat(trigger.get("dedup_key").asText()).isEqualTo("stowage/postgres/full/stale");
        assertThat(trigger.get("payload").get("class").asText()).isEqualTo("stale-backup");
        assertThat(trigger.get("payload").get("severity").asText()).isEqualTo("warning");
        assertThat(trigger.get("payload").get("summary").asText()).startsWith("Stale backup: postgres (full): last "
                + "successful full backup finished");
        assertThat(json(receiver.requests("/slack/T000/B000/XXXX").get(0).body()).get("text").asText())
                .startsWith(":warning: Backup stale: postgres (full)");
        assertThat(sample(get("/observe/metrics"), "stowage_backup_stale{job=\"postgres\",type=\"full\"}")).isEqualTo(1.0);

        // Checking again while still stale sends nothing more.
        producer.sendBody("direct:check-staleness", null);
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);

        // A fresh success (as far as this clock is concerned) clears it.
        service.runtime().services().metrics().lastSuccess("postgres", "full", now.get().minusSeconds(60));
        producer.sendBody("direct:check-staleness", null);
        assertThat(receiver.requests("/v2/enqueue")).hasSize(2);
        JsonNode resolve = json(receiver.requests("/v2/enqueue").get(1).body());
        assertThat(resolve.get("event_action").asText()).isEqualTo("resolve");
        assertThat(resolve.get("dedup_key").asText()).isEqualTo("stowage/postgres/full/stale");
        assertThat(sample(get("/observe/metrics"), "stowage_backup_stale{job=\"postgres\",type=\"full\"}")).isEqualTo(0.0);
    }

    @Test
    void should_count_a_backup_taken_by_a_command_beside_the_service_as_the_jobs_last_success() throws Exception {
        Workspace ws = workspace();
        service = ws.service();
        // The service has run for eight days without a success of its own (its weekly schedule allows 7 days + 1 h).
        AtomicReference<Instant> now = new AtomicReference<>(Instant.now().minus(Duration.ofDays(8)));
        ScheduleService schedules = new ScheduleService(service.runtime().services(),
                service.runtime().services().schedules().schedules(), Duration.ofHours(1), now::get);
        service.runtime().services().schedules(schedules);

        // An operator takes one by hand.
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        receiver.clear();

        now.set(Instant.now());
        service.runtime().context().createProducerTemplate().sendBody("direct:check-staleness", null);

        assertThat(receiver.requests("/v2/enqueue")).as("a stale alert for a job backed up a moment ago").isEmpty();
        assertThat(receiver.requests("/slack/T000/B000/XXXX")).isEmpty();
        String metrics = get("/observe/metrics");
        assertThat(sample(metrics, "stowage_backup_stale{job=\"postgres\",type=\"full\"}")).isZero();
        assertThat(sample(metrics, "stowage_backup_last_success_timestamp_seconds{job=\"postgres\",type=\"full\"}"))
                .isGreaterThanOrEqualTo((double) Instant.now().minusSeconds(120).getEpochSecond());
    }

    @Test
    void should_alert_when_a_schedule_never_fired_at_all() throws Exception {
        service = workspace().service();
        AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
        ScheduleService schedules = new ScheduleService(service.runtime().services(),
                service.runtime().services().schedules().schedules(), Duration.ofHours(1), now::get);
        service.runtime().services().schedules(schedules);
        now.set(now.get().plus(Duration.ofDays(9)));
        service.runtime().context().createProducerTemplate().sendBody("direct:check-staleness", null);
        JsonNode trigger = json(receiver.requests("/v2/enqueue").get(0).body());
        assertThat(trigger.get("payload").get("summary").asText()).contains("no successful full backup since the service started");
    }

    @Test
    void should_run_a_missed_schedule_once_after_downtime() throws Exception {
        Workspace ws = workspace();
        String old = ws.run("backup", "postgres").lastLine();
        // Pretend that backup finished 20 days ago: two Sunday fires were missed while the service was down.
        Path manifest = ws.repository().resolve("postgres").resolve(old).resolve("manifest.json");
        String twentyDaysAgo = Instant.now().minus(Duration.ofDays(20)).toString();
        Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"finished\" : \"[^\"]+\"",
                "\"finished\" : \"" + twentyDaysAgo + "\""));
        service = ws.service();
        // The catch-up runs on a thread of its own, started before the service returns: once it has ended, every
        // catch-up backup there will be has finished.
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals("stowage-catch-up")) {
                thread.join(120_000);
                assertThat(thread.isAlive()).as("the catch-up has finished").isFalse();
            }
        }
        assertThat(list(ws)).hasSize(2);
    }

    @Test
    void should_report_health_down_when_a_repository_is_unreachable() throws Exception {
        service = workspace().service();
        assertThat(get("/observe/health")).startsWith("200 ").contains("UP");
        // The scheduler paused: the service cannot keep its schedules.
        service.runtime().context().getComponent("quartz", org.apache.camel.component.quartz.QuartzComponent.class)
                .getScheduler().standby();
        service.health().refresh();
        assertThat(get("/observe/health")).startsWith("503 ").contains("DOWN");
        service.close();
        service = workspace(Files.createDirectories(dir.resolve("second")))
                .s3("health-bucket", "", "http://127.0.0.1:" + ThrowawayPostgres.freePort())
                .service();
        String health = get("/observe/health");
        assertThat(health).startsWith("503 ").contains("DOWN");
    }

    @Test
    void should_refuse_to_start_when_the_management_port_is_taken() throws Exception {
        // Another Stowage holds the port: a scrape there would read its numbers, not this service's.
        service = workspace().service();
        scheduledBackup("postgres");
        int taken = ManagementServer.port(service.runtime().context());
        Workspace second = workspace(Files.createDirectories(dir.resolve("second")))
                .property("camel.management.port", Integer.toString(taken));
        assertThatThrownBy(second::service).isInstanceOfSatisfying(StowageException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(StowageException.USAGE);
            assertThat(e.getMessage()).startsWith("cannot listen on 127.0.0.1:" + taken + " for health and metrics: "
                    + "address already in use; HINT: ");
        });
        assertThat(sample(get(taken, "/observe/metrics"),
                "stowage_backup_duration_seconds_count{job=\"postgres\",type=\"full\"}")).isEqualTo(1.0);

        // A process that takes connections and never answers: a scrape there would hang.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Workspace third = workspace(Files.createDirectories(dir.resolve("third")))
                    .property("camel.management.port", Integer.toString(silent.getLocalPort()));
            assertThatThrownBy(third::service).isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("cannot listen on 127.0.0.1:" + silent.getLocalPort());
        }
        // The refused starts left the running service alone.
        assertThat(get("/observe/health")).startsWith("200 ");
    }

    @Test
    void should_keep_backing_up_when_the_alert_receiver_fails() throws Exception {
        service = workspace().service();
        receiver.status(500);
        database.down(true);
        scheduledBackup("postgres");
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);
        database.down(false);
        scheduledBackup("postgres");
        Workspace ws = new Workspace(dir.resolve("reader").toFile().mkdirs() ? dir.resolve("reader") : dir)
                .property("stowage.repository.local.path", dir.resolve("backups").toString());
        assertThat(list(ws)).hasSize(1);
    }

    private static JsonNode list(Workspace ws) throws Exception {
        return ManifestCodec.JSON.readTree(ws.run("list", "--json").out());
    }

    /** The value of one Prometheus sample, by its exact name and labels. */
    static double sample(String exposition, String series) {
        return ManagementClient.sample(exposition, series).orElseThrow(() -> new AssertionError("no sample " + series
                + " in:\n" + exposition.lines().filter(l -> l.startsWith("stowage_")).reduce("", (a, b) -> a + b + "\n")));
    }

    @Test
    void should_expose_metrics_and_ship_alert_rules_that_promtool_accepts() throws Exception {
        service = workspace().service();
        scheduledBackup("postgres");
        String metrics = get("/observe/metrics").substring(4);
        Process lint = new ProcessBuilder(promtool(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = lint.getOutputStream()) {
            in.write(metrics.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String lintOutput = new String(lint.getInputStream().readAllBytes());
        assertThat(lint.waitFor()).as(lintOutput).isZero();

        Process rules = new ProcessBuilder(promtool(), "check", "rules", "docker/prometheus/alerts.yml")
                .redirectErrorStream(true).start();
        String rulesOutput = new String(rules.getInputStream().readAllBytes());
        assertThat(rules.waitFor()).as(rulesOutput).isZero();
        assertThat(rulesOutput).contains("SUCCESS: 11 rules found");
        // Every metric the rules use exists in what Stowage exposes.
        for (String name : List.of("stowage_backup_failures_total", "stowage_backup_stale",
                "stowage_backup_last_success_timestamp_seconds", "stowage_backup_duration_seconds_max",
                "stowage_backup_duration_seconds_sum", "stowage_backup_duration_seconds_count",
                "stowage_repository_up")) {
            assertThat(Files.readString(Path.of("docker/prometheus/alerts.yml")) + "\n" + Files.readString(
                    Path.of("docker/grafana/stowage.json"))).contains(name.replaceAll("_(max|sum|count)$", ""));
            assertThat(metrics).as(name).containsPattern("(?m)^" + name + "\\{");
        }
    }

    /** promtool, which bin/test installs (Debian's prometheus package) when it is missing. */
    private static String promtool() {
        Path path = Path.of("/usr/bin/promtool");
        assertThat(path).as("promtool is needed: apt-get install prometheus, or run bin/test").isExecutable();
        return path.toString();
    }

    @Test
    void should_verify_every_day_record_the_rto_and_alert_when_a_backup_cannot_be_proven() throws Exception {
        service = workspace().service();
        scheduledBackup("postgres");
        ProducerTemplate producer = service.runtime().context().createProducerTemplate();
        producer.sendBody("direct:verify-all", null);
        String metrics = get("/observe/metrics");
        assertThat(sample(metrics, "stowage_verify_last_success_timestamp_seconds{job=\"postgres\",type=\"verify\"}"))
                .isGreaterThan(Instant.now().minusSeconds(120).getEpochSecond());
        assertThat(sample(metrics, "stowage_restore_duration_seconds_count{job=\"postgres\"}")).isEqualTo(1.0);
        assertThat(sample(metrics, "stowage_restore_objective_seconds{job=\"postgres\"}")).isEqualTo(14400.0);
        assertThat(receiver.requests("/v2/enqueue")).isEmpty();

        // Corrupt the newest backup: the next verification fails, alerts once, and says which object.
        Path job = dir.resolve("backups/postgres");
        Path newest;
        try (Stream<Path> backups = Files.list(job)) {
            newest = backups.filter(Files::isDirectory).max(java.util.Comparator.naturalOrder()).orElseThrow();
        }
        Path object = newest.resolve("dump.pgfc.zst");
        byte[] bytes = Files.readAllBytes(object);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(object, bytes);
        producer.sendBody("direct:verify-all", null);
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);
        JsonNode trigger = json(receiver.requests("/v2/enqueue").get(0).body());
        assertThat(trigger.get("dedup_key").asText()).isEqualTo("stowage/postgres/verify");
        assertThat(trigger.get("payload").get("summary").asText()).startsWith("Verification failed: postgres (verify): "
                + "object 'postgres/" + newest.getFileName() + "/dump.pgfc.zst' in repository 'local' is corrupt");
        assertThat(json(receiver.requests("/slack/T000/B000/XXXX").get(0).body()).get("text").asText())
                .startsWith(":rotating_light: Verification failed: postgres");
    }

    @Test
    void should_verify_only_critical_jobs_when_told_to() throws Exception {
        Workspace ws = workspace().job("postgres", SOURCE, "port", Integer.toString(database.port()), "severity", "high")
                .property("stowage.verify.jobs", "critical");
        service = ws.service();
        scheduledBackup("postgres");
        service.runtime().context().createProducerTemplate().sendBody("direct:verify-all", null);
        String metrics = get("/observe/metrics");
        assertThat(metrics).as("job postgres has severity high: not verified")
                .doesNotContain("stowage_verify_last_success_timestamp_seconds{job=\"postgres\"");
        assertThat(ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0).get("verified").isNull())
                .isTrue();
    }

    @Test
    void should_alert_once_when_a_proven_backup_restores_slower_than_the_rto_objective() throws Exception {
        service = workspace().job("postgres", SOURCE, "port", Integer.toString(database.port()), "severity", "critical",
                "rtoSeconds", "0").service();
        scheduledBackup("postgres");
        ProducerTemplate producer = service.runtime().context().createProducerTemplate();
        producer.sendBody("direct:verify-all", null);
        String metrics = get("/observe/metrics");
        // The backup is proven (its verification passed) ...
        assertThat(sample(metrics, "stowage_verify_last_success_timestamp_seconds{job=\"postgres\",type=\"verify\"}"))
                .isGreaterThan(Instant.now().minusSeconds(120).getEpochSecond());
        assertThat(sample(metrics, "stowage_restore_objective_seconds{job=\"postgres\"}")).isZero();
        // ... but the restore missed the objective: one incident of its own, at warning severity.
        assertThat(receiver.requests("/v2/enqueue")).hasSize(1);
        JsonNode trigger = json(receiver.requests("/v2/enqueue").get(0).body());
        assertThat(trigger.get("dedup_key").asText()).isEqualTo("stowage/postgres/rto");
        assertThat(trigger.get("payload").get("summary").asText()).matches("RTO objective missed: postgres \\(rto\\): "
                + "the restore took \\d+\\.\\d s, over the RTO objective of 0 s");
        assertThat(trigger.get("payload").get("severity").asText()).isEqualTo("warning");
        assertThat(json(receiver.requests("/slack/T000/B000/XXXX").get(0).body()).get("text").asText())
                .startsWith(":warning: RTO objective missed: postgres");
    }
}
