package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.engine.EngineContractTest;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The engine contract for PostgreSQL physical backups (pg_basebackup and the WAL archive), against a real cluster
 * that archives its WAL into a spool the service ships.
 */
class PostgresPhysicalContractTest extends EngineContractTest {
    private static final String SOURCE = "contract_physical";
    private static Path home;
    private static Path spool;
    private static ThrowawayPostgres cluster;

    @BeforeAll
    static void startCluster() throws Exception {
        home = Files.createTempDirectory("stowage-contract-physical");
        spool = ThrowawayPostgres.serverWritableDirectory(home.resolve("spool"));
        cluster = WalTesting.archivingCluster(spool);
        SampleDatabase.createManyTypes(cluster, SOURCE);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.stop();
        }
        ThrowawayPostgres.deleteTree(home);
    }

    @Override
    protected Workspace workspace(Path dir) throws Exception {
        return new Workspace(dir).physicalJob(JOB, cluster, spool);
    }

    private static List<String> connection(String host, int port, String password) {
        return List.of("host", host, "port", Integer.toString(port), "user", ThrowawayPostgres.USER, "password",
                password, "database", "postgres", "pgBin", cluster.binDir().toString());
    }

    @Override
    protected Workspace withWrongPassword(Path dir) throws Exception {
        return new Workspace(dir).templatedJob(JOB, "postgresql-physical", connection(cluster.host(), cluster.port(),
                "not-the-password"), "");
    }

    @Override
    protected List<String> wrongPasswordWords() {
        return List.of("password authentication failed");
    }

    @Override
    protected Workspace unreachable(Path dir, int port) throws Exception {
        return new Workspace(dir).templatedJob(JOB, "postgresql-physical", connection("127.0.0.1", port,
                ThrowawayPostgres.PASSWORD), "");
    }

    /** The service ships the WAL the backup needs (its stop segment is closed first). */
    @Override
    protected void afterBackup(Workspace ws) throws Exception {
        WalTesting.switchWal(cluster);
        try (io.stowage.runtime.StowageService service = ws.service()) {
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                JsonNode entry = list(ws).get(0);
                if (entry.get("walComplete").size() == entry.get("repositories").size()) {
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the backup's WAL was not shipped: " + list(ws));
    }

    @Override
    protected List<String> unsupportedTarget(Path dir) {
        return List.of("--target-database", "contract_copy");
    }

    @Override
    protected List<String> restoreTarget(Path target) {
        return List.of("--target-datadir", target.toString());
    }

    @Override
    protected void assertRestoredEqualsSource(Path target) throws Exception {
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(target);
        try {
            restored.awaitRecoveryEnd();
            assertThat(SampleDatabase.contents(restored, SOURCE)).isEqualTo(SampleDatabase.contents(cluster, SOURCE));
        } finally {
            restored.stop();
        }
    }
}
