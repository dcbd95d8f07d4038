package io.stowage.engine.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import io.stowage.job.Job;
import io.stowage.testing.ThrowawayRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Redis server that speaks TLS (certificates made by openssl here): backed up over TLS; a wrong CA is one line. */
class RedisTlsTest {
    private final RedisEngine engine = new RedisEngine();

    @TempDir
    Path root;
    private List<Long> serversBefore;

    @org.junit.jupiter.api.BeforeEach
    void servers() {
        serversBefore = ThrowawayRedis.runningServers();
    }

    @org.junit.jupiter.api.AfterEach
    void noServerLeftRunning() {
        assertThat(ThrowawayRedis.runningServers()).isSubsetOf(serversBefore);
    }

    private void openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    private void authority(String name) throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                "-keyout", name + ".key", "-out", name + ".crt");
    }

    @Test
    void backsUpOverTlsAndSaysSoWhenTheCertificateIsNotTrusted() throws Exception {
        authority("ca");
        authority("other-ca");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
                "-out", "server.csr");
        Files.writeString(root.resolve("san.ext"), "subjectAltName=IP:127.0.0.1\n");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "san.ext", "-out", "server.crt");
        int tlsPort = ThrowawayRedis.freePort();
        try (ThrowawayRedis redis = ThrowawayRedis.start(null, "--tls-port", Integer.toString(tlsPort),
                "--tls-cert-file", root.resolve("server.crt").toString(),
                "--tls-key-file", root.resolve("server.key").toString(),
                "--tls-ca-cert-file", root.resolve("ca.crt").toString(), "--tls-auth-clients", "no",
                "--tls-replication", "yes")) {
            redis.loadSample(1, 300, 1, 1 << 20);
            Job job = RedisTesting.job(redis, null, Map.of("port", Integer.toString(tlsPort), "tls", "true",
                    "tlsCaCert", root.resolve("ca.crt").toString()));
            RedisTesting.Taken taken = RedisTesting.backup(engine, job, new RedisTesting.Context(root.resolve("a")));
            assertThat(taken.details().get("keyspace")).isEqualTo(Map.of("db0", 307L));

            Job untrusted = RedisTesting.job(redis, null, Map.of("port", Integer.toString(tlsPort), "tls", "true",
                    "tlsCaCert", root.resolve("other-ca.crt").toString()));
            assertThatThrownBy(() -> RedisTesting.backup(engine, untrusted, new RedisTesting.Context(root.resolve("b"))))
                    .isInstanceOf(StowageException.class)
                    .hasMessageStartingWith("cannot open a TLS connection to Redis at 127.0.0.1:" + tlsPort)
                    .hasMessageContaining("HINT: check the job's tls, tlsCaCert");
        }
    }
}
