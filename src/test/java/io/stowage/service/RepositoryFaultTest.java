package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.runtime.ManagementServer;
import io.stowage.runtime.StowageService;
import io.stowage.testing.FaultProxy;
import io.stowage.testing.ManagementClient;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An S3 repository that stops answering (a real S3 server behind a proxy in HANG): the service's health and metrics
 * still answer at once, from what the background checks found, and name the repository; a backup of a local+s3 job
 * completes its local copy in its normal time and fails naming s3, within the configured call bound.
 */
class RepositoryFaultTest {
    private static final String SOURCE = "fault_source";
    /** Short bounds for the test: a metadata call 2 s, a check every second. */
    private static final int CALL_TIMEOUT = 2;
    /** A data transfer 4 s. */
    private static final int TRANSFER_TIMEOUT = 4;

    @TempDir
    Path dir;

    private FaultProxy s3;
    private StowageService service;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    @BeforeEach
    void proxy() throws Exception {
        s3 = FaultProxy.forS3();
    }

    @AfterEach
    void stop() throws Exception {
        if (service != null) {
            service.close();
        }
        s3.close();
    }

    private Workspace workspace() throws Exception {
        return new Workspace(dir).job("postgres", SOURCE)
                .s3(S3TestServer.get().createBucket(), "", s3.endpoint())
                .property("stowage.repository.s3.connect-timeout-seconds", "1")
                .property("stowage.repository.s3.read-timeout-seconds", "1")
                .property("stowage.repository.s3.call-timeout-seconds", Integer.toString(CALL_TIMEOUT))
                .property("stowage.repository.s3.transfer-timeout-seconds", Integer.toString(TRANSFER_TIMEOUT))
                .property("stowage.health.repository-interval-seconds", "1")
                .property("camel.management.enabled", "true")
                .property("camel.management.health-check-enabled", "true")
                .property("camel.management.metrics-enabled", "true")
                .property("camel.metrics.enabled", "true");
    }

    /** A GET on the management server, which must answer within a second. */
    private String timedGet(String path) throws Exception {
        long started = System.nanoTime();
        String answer = ManagementClient.get(ManagementServer.port(service.runtime().context()), path);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as(path + " answered within a second")
                .isLessThan(Duration.ofSeconds(1));
        return answer;
    }

    /**
     * Health, asked every 100 ms (each answer within a second), until it starts with {@code status}; at most
     * {@code within}: the state changes when the background check has ended, a bounded time after the fault.
     */
    private String healthUntil(String status, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        String health = timedGet("/observe/health");
        while (!health.startsWith(status) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            health = timedGet("/observe/health");
        }
        return health;
    }

    @Test
    void should_answer_health_and_metrics_at_once_while_s3_does_not_answer() throws Exception {
        service = workspace().service();
        assertThat(timedGet("/observe/health")).startsWith("200 ").contains("UP");
        assertThat(timedGet("/observe/metrics")).contains("stowage_repository_up{repository=\"s3\"} 1.0")
                .contains("stowage_repository_up{repository=\"local\"} 1.0");

        s3.mode(FaultProxy.Mode.HANG);
        // Down once the check in flight has waited its call bound, plus at most one interval for the next check.
        String health = healthUntil("503 ", Duration.ofSeconds(CALL_TIMEOUT + 1 + 3));
        assertThat(health).startsWith("503 ").contains("DOWN")
                .contains("repository 's3'").contains("did not answer within " + CALL_TIMEOUT + " s")
                .doesNotContain("\\tat ");
        for (int i = 0; i < 5; i++) {
            assertThat(timedGet("/observe/health")).startsWith("503 ");
            String metrics = timedGet("/observe/metrics");
            assertThat(metrics).contains("stowage_repository_up{repository=\"s3\"} 0.0")
                    .contains("stowage_repository_up{repository=\"local\"} 1.0")
                    .contains("stowage_repository_check_seconds{repository=\"s3\"}")
                    .contains("camel_routes_running_routes").contains("stowage_backup_stale{job=\"postgres\"");
        }

        s3.mode(FaultProxy.Mode.PASS);
        // Up again within the interval (1 s) once the check in flight has ended (at most its call bound).
        assertThat(healthUntil("200 ", Duration.ofSeconds(CALL_TIMEOUT + 1 + 2))).startsWith("200 ").contains("UP");
        assertThat(timedGet("/observe/metrics")).contains("stowage_repository_up{repository=\"s3\"} 1.0");
    }

    @Test
    void should_complete_the_local_backup_in_its_normal_time_while_s3_does_not_answer() throws Exception {
        Workspace ws = workspace();
        long normalStarted = System.nanoTime();
        Workspace.Result normal = ws.run("backup", "postgres");
        Duration normalTime = Duration.ofNanos(System.nanoTime() - normalStarted);
        assertThat(normal.status()).as(normal.toString()).isZero();

        s3.mode(FaultProxy.Mode.HANG);
        long started = System.nanoTime();
        Workspace.Result result = ws.run("backup", "postgres");
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertThat(result.status()).as(result.toString()).isEqualTo(1);
        assertThat(result.err().strip().lines()).as(result.err()).hasSize(1);
        assertThat(result.err()).startsWith("error: ").contains("is complete in 'local'")
                .contains("repository 's3'").contains("did not answer within " + CALL_TIMEOUT + " s");
        // The local copy does not wait on S3 (the begin step does not call it); what S3 costs is bounded: two calls
        // of the call timeout (the clean-up before the copy, which then gives up on s3, and the audit log's small
        // line), not minutes.
        assertThat(took).as("backup with S3 hanging, normal backup took " + normalTime)
                .isLessThan(normalTime.plusSeconds(2L * CALL_TIMEOUT + 2));

        s3.mode(FaultProxy.Mode.PASS);
        Workspace.Result list = ws.run("list", "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        JsonNode listed = ManifestCodec.JSON.readTree(list.out());
        assertThat(listed).hasSize(2);
        assertThat(listed.get(1).get("id").asText()).isEqualTo(result.lastLine().isBlank() ? listed.get(1).get("id")
                .asText() : result.lastLine());
        assertThat(listed.get(1).get("repositories").toString()).isEqualTo("[\"local\"]");
    }
}
