package io.stowage.copies;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.stowage.runtime.StowageService;
import io.stowage.testing.FaultProxy;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stopping the service while a catch-up round waits on a repository that does not answer: the round is no backup,
 * and what it did not copy is copied by the next service. The stop neither waits for it for the repository's call
 * timeout nor reports "a backup cut short": the round runs on a thread of its own, abandoned at the stop.
 */
class CatchUpShutdownTest {
    private static final String SOURCE = "catchup_catch_up_shutdown";

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), SOURCE);
    }

    @Test
    void a_stop_during_a_catch_up_round_is_not_reported_as_a_backup_cut_short() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        try (FaultProxy s3 = FaultProxy.forS3()) {
            Workspace ws = new Workspace(dir.resolve("ws")).job("postgres", SOURCE).s3(bucket, "", s3.endpoint())
                    .property("stowage.repository.retry.delay-ms", "10")
                    .property("stowage.repository.s3.call-timeout-seconds", "40")
                    .property("stowage.repository.s3.transfer-timeout-seconds", "40")
                    .property("stowage.catch-up.interval-seconds", "1")
                    .property("camel.main.shutdown-timeout", "3");
            s3.mode(FaultProxy.Mode.REFUSE);
            Workspace.Result backup = ws.run("backup", "postgres");
            assertThat(backup.status()).as(backup.toString()).isEqualTo(1); // complete in local only

            s3.mode(FaultProxy.Mode.HANG);
            StowageService service = ws.service();
            Thread.sleep(4000); // the first catch-up round is waiting on S3
            long started = System.nanoTime();
            assertThatCode(service::close).as("stopping while a catch-up round waits").doesNotThrowAnyException();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
        }
    }
}
