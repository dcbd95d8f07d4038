package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.ThrowawayPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database's own settings read from a real pg_dump archive of a database with a hostile name and hostile
 * values, and written again for another name: every statement names only the new database, and running them changes
 * nothing else on the server.
 */
class DatabasePropertiesTest {
    /** pg_dump and pg_restore refuse a name with a line break; anything else goes. */
    private static final String HOSTILE = "x\"; COMMENT ON DATABASE postgres IS 'own'; -- \\c postgres";
    private static final String COMMENT = "it's '; DROP DATABASE postgres; --\n\\! echo owned \\ \" $$ done";

    @TempDir
    Path dir;

    @Test
    void should_read_a_hostile_databases_settings_as_values_and_apply_them_to_another_name_only() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        String hostile = DatabaseProperties.identifier(HOSTILE);
        pg.execute("postgres", "DROP DATABASE IF EXISTS " + hostile, "DROP DATABASE IF EXISTS props_unit_target",
                "DO $$BEGIN CREATE ROLE \"props unit\"\"role\"; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
                "CREATE DATABASE " + hostile,
                "ALTER DATABASE " + hostile + " SET search_path TO \"my schema\", public",
                "ALTER DATABASE " + hostile + " SET \"stowage.note\" TO " + DatabaseProperties.literal(COMMENT),
                "ALTER DATABASE " + hostile + " CONNECTION LIMIT 5",
                "ALTER ROLE \"props unit\"\"role\" IN DATABASE " + hostile + " SET work_mem TO '2MB'",
                "COMMENT ON DATABASE " + hostile + " IS " + DatabaseProperties.literal(COMMENT),
                "GRANT CONNECT, TEMPORARY ON DATABASE " + hostile + " TO \"props unit\"\"role\" WITH GRANT OPTION",
                "CREATE DATABASE props_unit_target");
        try {
            Path dump = dir.resolve("hostile.pgfc");
            assertThat(runDump(pg, dump)).as("pg_dump of the hostile database").isZero();
            String commentBefore = comment(pg, "postgres");

            PgConnection connection = new PgConnection(pg.host(), pg.port(), ThrowawayPostgres.USER,
                    ThrowawayPostgres.PASSWORD, "postgres", pg.binDir().toString());
            DatabaseProperties properties = new PgRestore(connection).databaseProperties(() -> Files.newInputStream(dump));
            assertThat(properties.unread()).isEmpty();
            assertThat(properties.owner()).isEqualTo(ThrowawayPostgres.USER);
            List<DatabaseProperties.Statement> statements = properties.statements("props_unit_target");
            for (DatabaseProperties.Statement statement : statements) {
                assertThat(statement.sql()).contains("\"props_unit_target\"").doesNotContain("\\connect")
                        .doesNotContain("COMMENT ON DATABASE postgres");
            }
            try (Connection c = pg.connect("postgres"); var s = c.createStatement()) {
                for (DatabaseProperties.Statement statement : statements) {
                    s.execute(statement.sql());
                }
            }

            assertThat(comment(pg, "props_unit_target")).isEqualTo(COMMENT);
            assertThat(comment(pg, "postgres")).isEqualTo(commentBefore);
            assertThat(settings(pg, "props_unit_target")).containsExactly(
                    "0: search_path=\"my schema\", public", "0: stowage.note=" + COMMENT,
                    "props unit\"role: work_mem=2MB");
            assertThat(settings(pg, "props_unit_target")).isEqualTo(settings(pg, HOSTILE));
            try (Connection c = pg.connect("postgres"); var s = c.prepareStatement("SELECT datconnlimit,"
                    + " has_database_privilege('props unit\"role', 'props_unit_target', 'TEMPORARY WITH GRANT OPTION')"
                    + " FROM pg_database WHERE datname = 'props_unit_target'")) {
                try (var rs = s.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(5);
                    assertThat(rs.getBoolean(2)).isTrue();
                }
            }
        } finally {
            pg.execute("postgres", "DROP DATABASE IF EXISTS " + hostile, "DROP DATABASE IF EXISTS props_unit_target",
                    "DROP ROLE IF EXISTS \"props unit\"\"role\"");
        }
    }

    private static int runDump(ThrowawayPostgres pg, Path dump) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(pg.binDir().resolve("pg_dump").toString(), "--format=custom",
                "--file=" + dump).redirectErrorStream(true);
        builder.environment().putAll(Map.of("PGHOST", pg.host(), "PGPORT", Integer.toString(pg.port()),
                "PGUSER", ThrowawayPostgres.USER, "PGPASSWORD", ThrowawayPostgres.PASSWORD, "PGDATABASE", HOSTILE));
        Process process = builder.start();
        process.getOutputStream().close();
        process.getInputStream().transferTo(System.err);
        return process.waitFor();
    }

    private static String comment(ThrowawayPostgres pg, String database) throws Exception {
        try (Connection c = pg.connect("postgres"); var s = c.prepareStatement(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = ?")) {
            s.setString(1, database);
            try (var rs = s.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static List<String> settings(ThrowawayPostgres pg, String database) throws Exception {
        List<String> settings = new ArrayList<>();
        try (Connection c = pg.connect("postgres"); var s = c.prepareStatement("SELECT coalesce(a.rolname, '0') || ': '"
                + " || x FROM pg_db_role_setting r JOIN pg_database d ON d.oid = r.setdatabase LEFT JOIN pg_roles a"
                + " ON a.oid = r.setrole, unnest(r.setconfig) x WHERE d.datname = ? ORDER BY 1")) {
            s.setString(1, database);
            try (var rs = s.executeQuery()) {
                while (rs.next()) {
                    settings.add(rs.getString(1));
                }
            }
        }
        return settings;
    }
}
