package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole-database restore never replaces the server's own databases (the maintenance database {@code postgres}
 * and the templates): it is refused as bad usage before anything is touched. One table restored into an existing
 * {@code postgres} is still allowed: that changes one table, not the database.
 */
class SystemDatabaseRestoreTest {
    private static final String SOURCE = "sysdb_source";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() {
        pg = ThrowawayPostgres.get();
        pg.createDatabase(SOURCE, "CREATE TABLE sysdb_items (id int PRIMARY KEY, name text)",
                "INSERT INTO sysdb_items SELECT g, 'item ' || g FROM generate_series(1, 50) g");
    }

    @AfterAll
    static void dropSource() {
        pg.dropDatabase(SOURCE);
    }

    @Test
    void should_refuse_to_replace_the_maintenance_database_and_the_templates() throws Exception {
        Workspace ws = new Workspace(dir).job("shop", SOURCE);
        Workspace.Result backup = ws.run("backup", "shop");
        assertThat(backup.status()).as(backup.toString()).isZero();
        pg.execute("postgres", "CREATE TABLE IF NOT EXISTS sysdb_marker (x int)");
        try {
            for (String system : new String[] {"postgres", "template0", "template1"}) {
                Workspace.Result refused = ws.run("restore", "shop", "--target-database", system, "--force");
                assertThat(refused.status()).as(refused.toString()).isEqualTo(2);
                assertThat(refused.err().strip()).startsWith("error: target database '" + system + "' is a system "
                        + "database").contains("HINT: ").doesNotContain("\n");
                assertThat(pg.databaseExists(system)).isTrue();
            }
            assertThat(pg.number("postgres", "SELECT count(*) FROM pg_class WHERE relname = 'sysdb_marker'"))
                    .isEqualTo(1);
            assertThat(pg.number("postgres", "SELECT count(*) FROM pg_class WHERE relname = 'sysdb_items'")).isZero();

            // The job whose own database is the maintenance database: the same refusal.
            Workspace maintenanceJob = new Workspace(dir.resolve("maintenance")).job("admin", "postgres");
            Workspace.Result refused = maintenanceJob.run("restore", "admin", "--target-database", "postgres",
                    "--force");
            assertThat(refused.status()).as(refused.toString()).isEqualTo(2);
            assertThat(pg.number("postgres", "SELECT count(*) FROM pg_class WHERE relname = 'sysdb_marker'"))
                    .isEqualTo(1);

            // One table into postgres is a change to that table only, and stays allowed.
            Workspace.Result table = ws.run("restore", "shop", "--table", "sysdb_items", "--target-database",
                    "postgres");
            assertThat(table.status()).as(table.toString()).isZero();
            assertThat(pg.number("postgres", "SELECT count(*) FROM sysdb_items")).isEqualTo(50);
        } finally {
            if (!pg.databaseExists("postgres")) {
                pg.execute("template1", "CREATE DATABASE postgres"); // what the defect did: give the cluster it back
            }
            pg.execute("postgres", "DROP TABLE IF EXISTS sysdb_marker", "DROP TABLE IF EXISTS sysdb_items");
        }
    }

}
