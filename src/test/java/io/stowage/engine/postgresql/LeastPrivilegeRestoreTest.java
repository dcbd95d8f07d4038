package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups and restores as the non-superuser role docs/postgresql.md sets up, and restores of a backup whose owners
 * and grantees this server does not have: what fails says what to grant or which option to add, and leaves nothing;
 * {@code --no-owner}, {@code --role} and {@code --no-privileges} make the restore work.
 */
class LeastPrivilegeRestoreTest {
    private static final String SOURCE = "lp_source";
    private static final String TARGET = "lp_copy";
    private static final String PASSWORD = "lp-Secret-9";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createRolesAndSource() {
        pg = ThrowawayPostgres.get();
        dropAll();
        pg.execute("postgres",
                // docs/postgresql.md: the role that backs up and restores
                "CREATE ROLE lp_backup LOGIN CREATEDB PASSWORD '" + PASSWORD + "'",
                "GRANT pg_read_all_data TO lp_backup",
                "CREATE ROLE lp_nocreate LOGIN PASSWORD '" + PASSWORD + "'",
                "CREATE ROLE lp_owner", "CREATE ROLE lp_reader", "CREATE ROLE lp_gone", "CREATE ROLE lp_gone_reader",
                "CREATE ROLE lp_app", "GRANT lp_app TO lp_backup",
                "CREATE DATABASE " + SOURCE + " OWNER lp_owner");
        pg.execute(SOURCE,
                "CREATE SCHEMA app AUTHORIZATION lp_owner",
                "CREATE TABLE app.items (id int PRIMARY KEY, name text)",
                "INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 100) g",
                "ALTER TABLE app.items OWNER TO lp_owner",
                "GRANT SELECT ON app.items TO lp_reader",
                "CREATE TABLE app.gone_items (id int)",
                "INSERT INTO app.gone_items VALUES (7)",
                "ALTER TABLE app.gone_items OWNER TO lp_gone",
                "GRANT SELECT ON app.gone_items TO lp_gone_reader");
    }

    @AfterAll
    static void dropAll() {
        pg.dropDatabase(SOURCE);
        pg.dropDatabase(TARGET);
        pg.execute("postgres", "DROP ROLE IF EXISTS lp_backup", "DROP ROLE IF EXISTS lp_nocreate",
                "DROP ROLE IF EXISTS lp_owner", "DROP ROLE IF EXISTS lp_reader", "DROP ROLE IF EXISTS lp_gone",
                "DROP ROLE IF EXISTS lp_gone_reader", "DROP ROLE IF EXISTS lp_app");
    }

    @Test
    void should_restore_as_a_role_without_superuser_and_across_servers_whose_roles_differ() throws Exception {
        Workspace ws = new Workspace(dir).job("shop", SOURCE, "user", "lp_backup", "password", PASSWORD);
        Workspace.Result backup = ws.run("backup", "shop");
        assertThat(backup.status()).as(backup.toString()).isZero();
        // As on another server: the owner of one table and the grantee of another are not there.
        pg.execute(SOURCE, "REASSIGN OWNED BY lp_gone TO lp_owner", "DROP OWNED BY lp_gone, lp_gone_reader");
        pg.execute("postgres", "DROP ROLE lp_gone", "DROP ROLE lp_gone_reader");
        Set<String> before = pg.databases("lp%");

        ws.job("shop", SOURCE, "user", "lp_nocreate", "password", PASSWORD);
        expectFailure(ws.run("restore", "shop", "--target-database", TARGET),
                "permission denied to create database", "HINT: ALTER ROLE lp_nocreate CREATEDB");
        assertThat(pg.databases("lp%")).isEqualTo(before);

        ws.job("shop", SOURCE, "user", "lp_backup", "password", PASSWORD);
        expectFailure(ws.run("restore", "shop", "--target-database", TARGET),
                "must be member of role \"lp_owner\"", "HINT: ", "--no-owner", "--role", "GRANT lp_owner TO lp_backup");
        assertThat(pg.databases("lp%")).isEqualTo(before);

        ws.job("shop", SOURCE);
        expectFailure(ws.run("restore", "shop", "--target-database", TARGET),
                "role \"lp_gone\" does not exist", "HINT: create it", "--no-owner");
        expectFailure(ws.run("restore", "shop", "--target-database", TARGET, "--no-owner"),
                "role \"lp_gone_reader\" does not exist", "HINT: create it", "--no-privileges");
        assertThat(pg.databases("lp%")).isEqualTo(before);

        // Objects owned by the restoring role, without the backup's grants.
        ws.job("shop", SOURCE, "user", "lp_backup", "password", PASSWORD);
        Workspace.Result noOwner = ws.run("restore", "shop", "--target-database", TARGET, "--no-owner",
                "--no-privileges");
        assertThat(noOwner.status()).as(noOwner.toString()).isZero();
        assertThat(owners(TARGET)).isEqualTo("database lp_backup, app lp_backup, app.gone_items lp_backup,"
                + " app.items lp_backup");
        assertThat(pg.number(TARGET, "SELECT count(*) FROM app.items")).isEqualTo(100);
        assertThat(pg.number(TARGET, "SELECT count(*) FROM information_schema.role_table_grants"
                + " WHERE grantee = 'lp_reader'")).isZero();

        // Objects owned by a role of the application, with the backup's grants (their grantee exists again).
        pg.execute("postgres", "CREATE ROLE lp_gone_reader");
        Workspace.Result role = ws.run("restore", "shop", "--target-database", TARGET, "--force", "--role", "lp_app",
                "--no-owner");
        assertThat(role.status()).as(role.toString()).isZero();
        assertThat(owners(TARGET)).isEqualTo("database lp_app, app lp_app, app.gone_items lp_app, app.items lp_app");
        assertThat(pg.number(TARGET, "SELECT count(*) FROM information_schema.role_table_grants"
                + " WHERE grantee IN ('lp_reader', 'lp_gone_reader') AND privilege_type = 'SELECT'")).isEqualTo(2);
        pg.dropDatabase(TARGET);
        assertThat(pg.databases("lp%")).isEqualTo(before);
    }

    private void expectFailure(Workspace.Result result, String... fragments) throws Exception {
        assertThat(result.status()).as(result.toString()).isEqualTo(1);
        assertThat(result.err().strip()).as(result.toString()).startsWith("error: ").doesNotContain("\n")
                .contains(fragments).doesNotContain(PASSWORD);
        assertThat(pg.databaseExists(TARGET)).isFalse();
    }

    private static String owners(String database) throws Exception {
        try (Connection c = pg.connect(database); var s = c.createStatement(); var rs = s.executeQuery(
                "SELECT string_agg(what, ', ' ORDER BY n, what) FROM ("
                        + " SELECT 0 n, 'database ' || pg_get_userbyid(datdba) what FROM pg_database"
                        + " WHERE datname = current_database()"
                        + " UNION ALL SELECT 1, nspname || ' ' || pg_get_userbyid(nspowner) FROM pg_namespace"
                        + " WHERE nspname = 'app'"
                        + " UNION ALL SELECT 2, 'app.' || relname || ' ' || pg_get_userbyid(relowner) FROM pg_class"
                        + " WHERE relnamespace = 'app'::regnamespace AND relkind = 'r') x")) {
            rs.next();
            return rs.getString(1);
        }
    }

}
