package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What belongs to the database itself and not to any object in it (its settings, per-role settings in it, its
 * connection limit, its comment and its privileges) comes back with a whole-database restore, under the target's
 * name, and the source is left as it was. A per-role setting or a grant for a role this server does not have is
 * reported and skipped, and the restore still succeeds.
 */
class DatabasePropertiesRestoreTest {
    private static final String SOURCE = "props_source";
    private static final String TARGET = "props_copy";
    private static final String COMMENT = "the shop's data; see \"docs\" \\ and\na second line";
    private static ThrowawayPostgres pg;

    @TempDir
    Path dir;

    @BeforeAll
    static void createSource() {
        pg = ThrowawayPostgres.get();
        pg.dropDatabase(SOURCE);
        pg.dropDatabase(TARGET);
        pg.execute("postgres", "DROP ROLE IF EXISTS props_gone",
                "DO $$BEGIN CREATE ROLE props_reader; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
                "CREATE ROLE props_gone",
                "CREATE DATABASE " + SOURCE,
                "ALTER DATABASE " + SOURCE + " SET search_path TO app, public",
                "ALTER DATABASE " + SOURCE + " SET work_mem TO '64MB'",
                "ALTER DATABASE " + SOURCE + " SET application_name TO 'it''s a \\ test'",
                "ALTER DATABASE " + SOURCE + " CONNECTION LIMIT 17",
                "ALTER ROLE props_reader IN DATABASE " + SOURCE + " SET statement_timeout TO '5s'",
                "ALTER ROLE props_gone IN DATABASE " + SOURCE + " SET statement_timeout TO '7s'",
                "COMMENT ON DATABASE " + SOURCE + " IS E'" + COMMENT.replace("\\", "\\\\").replace("'", "''")
                        .replace("\n", "\\n") + "'",
                "REVOKE CONNECT, TEMPORARY ON DATABASE " + SOURCE + " FROM PUBLIC",
                "GRANT CONNECT ON DATABASE " + SOURCE + " TO props_reader",
                "GRANT CONNECT ON DATABASE " + SOURCE + " TO props_gone");
        pg.execute(SOURCE, "CREATE SCHEMA app", "CREATE TABLE app.items (id int PRIMARY KEY)",
                "INSERT INTO app.items VALUES (1), (2)");
    }

    @AfterAll
    static void dropAll() {
        pg.dropDatabase(SOURCE);
        pg.dropDatabase(TARGET);
        pg.execute("postgres", "DROP ROLE IF EXISTS props_gone");
    }

    @Test
    void should_restore_the_settings_comment_and_privileges_of_the_database_under_its_new_name() throws Exception {
        Workspace ws = new Workspace(dir).job("shop", SOURCE);
        Workspace.Result backup = ws.run("backup", "shop");
        assertThat(backup.status()).as(backup.toString()).isZero();
        List<String> sourceBefore = describe(SOURCE);
        // The role is gone by the time of the restore, as on another server.
        pg.execute("postgres", "REVOKE CONNECT ON DATABASE " + SOURCE + " FROM props_gone", "DROP ROLE props_gone");

        Workspace.Result restore = ws.run("restore", "shop", "--target-database", TARGET);
        assertThat(restore.status()).as(restore.toString()).isZero();

        List<String> restored = describe(TARGET);
        assertThat(restored).contains(
                "setting: application_name=it's a \\ test",
                "setting: search_path=app, public",
                "setting: work_mem=64MB",
                "role props_reader: statement_timeout=5s",
                "connection limit: 17",
                "comment: " + COMMENT,
                "connect: props_reader=true, public=false");
        assertThat(restored).noneMatch(line -> line.contains("props_gone") || line.contains("7s"));
        List<String> sourceAfter = new ArrayList<>(sourceBefore);
        sourceAfter.removeIf(line -> line.contains("props_gone") || line.contains("7s"));
        assertThat(describe(SOURCE)).as("the source database").isEqualTo(sourceAfter);

        // Said, not silent: the setting and the grant of the missing role.
        List<String> warnings = restore.err().lines().filter(l -> l.startsWith("warning: ")).toList();
        assertThat(warnings).as(restore.toString()).hasSize(2)
                .allSatisfy(w -> assertThat(w).contains("props_gone").contains("does not exist"))
                .anySatisfy(w -> assertThat(w).contains("statement_timeout"))
                .anySatisfy(w -> assertThat(w).contains("CONNECT"));

        // The settings are the database's: a new session in it gets them.
        try (Connection c = pg.connect(TARGET); var s = c.createStatement(); var rs = s.executeQuery("SHOW work_mem")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("64MB");
        }
    }

    /** A database's own properties, one line each, sorted (database settings, per-role settings, comment, ACL). */
    static List<String> describe(String database) throws Exception {
        List<String> lines = new ArrayList<>();
        String sql = "SELECT 'setting: ' || x FROM pg_db_role_setting r JOIN pg_database d ON d.oid = r.setdatabase,"
                        + " unnest(r.setconfig) x WHERE d.datname = ?1 AND r.setrole = 0"
                        + " UNION ALL SELECT 'role ' || a.rolname || ': ' || x FROM pg_db_role_setting r"
                        + " JOIN pg_database d ON d.oid = r.setdatabase JOIN pg_roles a ON a.oid = r.setrole,"
                        + " unnest(r.setconfig) x WHERE d.datname = ?1"
                        + " UNION ALL SELECT 'connection limit: ' || datconnlimit FROM pg_database WHERE datname = ?1"
                        + " UNION ALL SELECT 'comment: ' || shobj_description(oid, 'pg_database') FROM pg_database"
                        + " WHERE datname = ?1"
                        + " UNION ALL SELECT 'connect: props_reader=' || has_database_privilege('props_reader', ?1,"
                        + " 'CONNECT') || ', public=' || has_database_privilege('public', ?1, 'CONNECT')"
                        + " ORDER BY 1";
        try (Connection c = pg.connect("postgres"); var s = c.prepareStatement(sql.replace("?1", "?"))) {
            for (int i = 1; i <= 6; i++) {
                s.setString(i, database);
            }
            try (var rs = s.executeQuery()) {
                while (rs.next()) {
                    lines.add(rs.getString(1));
                }
            }
        }
        return lines;
    }
}
