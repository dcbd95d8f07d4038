package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.engine.EngineContractTest;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The engine contract for PostgreSQL logical backups (pg_dump), against a real server. */
class PostgresLogicalContractTest extends EngineContractTest {
    private static final String SOURCE = "contract_logical";
    private static final String COPY = "contract_logical_copy";
    private static ThrowawayPostgres pg;

    @BeforeAll
    static void createSource() throws Exception {
        pg = ThrowawayPostgres.get();
        pg.dropDatabase(SOURCE);
        SampleDatabase.createManyTypes(pg, SOURCE);
        SampleDatabase.addRandomBytes(pg, SOURCE, 24);
    }

    @AfterAll
    static void dropSource() {
        pg.dropDatabase(SOURCE);
    }

    @Override
    protected Workspace workspace(Path dir) throws Exception {
        return new Workspace(dir).job(JOB, SOURCE);
    }

    @Override
    protected Workspace withWrongPassword(Path dir) throws Exception {
        return new Workspace(dir).job(JOB, SOURCE, "password", "not-the-password");
    }

    @Override
    protected List<String> wrongPasswordWords() {
        return List.of("password authentication failed");
    }

    @Override
    protected Workspace unreachable(Path dir, int port) throws Exception {
        return new Workspace(dir).job(JOB, SOURCE, "host", "127.0.0.1", "port", Integer.toString(port));
    }

    @Override
    protected List<String> unsupportedTarget(Path dir) {
        return List.of("--target-datadir", dir.resolve("d").toString());
    }

    @Override
    protected List<String> restoreTarget(Path target) {
        return List.of("--target-database", COPY);
    }

    @Override
    protected void assertRestoredEqualsSource(Path target) throws Exception {
        try {
            assertThat(SampleDatabase.contents(pg, COPY)).isEqualTo(SampleDatabase.contents(pg, SOURCE));
        } finally {
            pg.dropDatabase(COPY);
        }
    }
}
