package io.stowage.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.runtime.StowageService;
import io.stowage.testing.FaultProxy;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's start while S3 does not answer: "At start, the service waits up to 5 s for the first checks", health
 * and metrics never wait on a repository. The start itself must not wait on S3 call after S3 call (the catalog's
 * last successes, the audit line): until it returns, the health check of the repositories is not registered and missed
 * schedules are not run. The local repositories are read at once, the remote ones in the background.
 */
class StartWithHangingS3Test {
    @TempDir
    Path dir;

    @Test
    void the_start_does_not_wait_on_a_hanging_s3() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        try (FaultProxy s3 = FaultProxy.forS3()) {
            Workspace ws = new Workspace(dir.resolve("ws")).s3(bucket, "", s3.endpoint())
                    .property("stowage.repository.s3.call-timeout-seconds", "10")
                    .property("stowage.repository.s3.transfer-timeout-seconds", "10")
                    .property("stowage.catch-up.interval-seconds", "0");
            s3.mode(FaultProxy.Mode.HANG);
            long started = System.nanoTime();
            StowageService service = ws.service();
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            try {
                assertThat(took).as("the service's start with S3 hanging (call timeout 10 s)")
                        .isLessThan(Duration.ofSeconds(15));
            } finally {
                s3.mode(FaultProxy.Mode.REFUSE);
                service.close();
            }
        }
    }
}
