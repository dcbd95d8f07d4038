package io.stowage.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Test databases with the data types a restore must bring back exactly, and a row-for-row comparison of two. */
public final class SampleDatabase {
    private SampleDatabase() {
    }

    /** Creates {@code name} with several schemas, many types, NULLs, non-ASCII text, bytea and large objects. */
    public static void createManyTypes(ThrowawayPostgres pg, String name) throws SQLException {
        pg.dropDatabase(name);
        pg.execute("postgres", "CREATE DATABASE \"" + name + "\"");
        pg.execute(name,
                "CREATE SCHEMA sales",
                "CREATE SCHEMA \"Audit Log\"",
                "CREATE TABLE public.kinds (id serial PRIMARY KEY, n numeric(40,12), r real, f float8, i8 bigint,"
                        + " t text, vc varchar(20), b bytea, j jsonb, js json, ia int[], ta text[], ts timestamptz,"
                        + " d date, tm time, iv interval, u uuid, bo boolean, inet_a inet, nothing text)",
                "INSERT INTO public.kinds (n, r, f, i8, t, vc, b, j, js, ia, ta, ts, d, tm, iv, u, bo, inet_a, nothing)"
                        + " VALUES (12345678901234567890.123456789012, 1.5, -2.25e-300, 9223372036854775807,"
                        + " 'Grüße aus Köln, 東京, Ελληνικά, emoji 🎉, quote '' and tab\t', 'ñandú',"
                        + " (SELECT string_agg(lpad(to_hex(g), 2, '0'), '') FROM generate_series(0, 255) g)::text::bytea,"
                        + " '{\"a\": [1, 2.5, null, true], \"ü\": {\"nested\": \"value\"}}',"
                        + " '{\"keep\":  \"spacing\"}', ARRAY[1, NULL, 3], ARRAY['x', NULL, 'ž'],"
                        + " '2026-11-21 02:00:00.123456+00', '1999-12-31', '23:59:59.999', '1 year 2 mons 3 days',"
                        + " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, '192.168.0.1/24', NULL)",
                "INSERT INTO public.kinds (n, t, b) VALUES (NULL, NULL, NULL), (0, '', ''::bytea), (-1.5, 'NaN', '\\x00ff')",
                "INSERT INTO public.kinds (n, t) SELECT g * 1.01, md5(g::text) FROM generate_series(1, 5000) g",
                "CREATE TABLE sales.orders (id bigserial PRIMARY KEY, kind_id int REFERENCES public.kinds(id),"
                        + " amount numeric(12,2) NOT NULL, note text)",
                "CREATE INDEX orders_kind ON sales.orders(kind_id)",
                "INSERT INTO sales.orders (kind_id, amount, note) SELECT (g % 100) + 1, g * 0.5, 'order ' || g"
                        + " FROM generate_series(1, 3000) g",
                "CREATE TABLE \"Audit Log\".\"Events\" (at timestamptz DEFAULT now(), what text)",
                "INSERT INTO \"Audit Log\".\"Events\" (at, what) VALUES ('2026-01-01 00:00:00+00', 'first'),"
                        + " ('2026-01-02 00:00:00+00', 'second')",
                "CREATE TABLE public.documents (id int PRIMARY KEY, content oid)",
                "INSERT INTO public.documents VALUES (1, lo_from_bytea(0, convert_to(repeat('large object ', 10000),"
                        + " 'UTF8'))), (2, lo_from_bytea(0, '\\xdeadbeef'))",
                "CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE amount > 1000");
    }

    /** Adds {@code megabytes} of incompressible bytes to {@code name}, so a dump takes real time and space. */
    public static void addRandomBytes(ThrowawayPostgres pg, String name, int megabytes) throws SQLException {
        pg.execute(name, "CREATE TABLE IF NOT EXISTS public.noise (id serial PRIMARY KEY, data bytea)");
        Random random = new Random(42);
        try (Connection c = pg.connect(name);
             PreparedStatement insert = c.prepareStatement("INSERT INTO public.noise (data) VALUES (?)")) {
            byte[] chunk = new byte[1024 * 1024];
            for (int i = 0; i < megabytes; i++) {
                random.nextBytes(chunk);
                insert.setBytes(1, chunk);
                insert.executeUpdate();
            }
        }
    }

    /**
     * Every user table's rows (as text, in a stable order; over 1 MiB of text, its MD5), every large object's hash,
     * every sequence's value.
     */
    public static Map<String, String> contents(ThrowawayPostgres pg, String database) throws SQLException {
        Map<String, String> contents = new LinkedHashMap<>();
        try (Connection c = pg.connect(database); Statement s = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT format('%I.%I', table_schema, table_name) FROM"
                    + " information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                    + " ORDER BY 1")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            for (String table : tables) {
                // A big table's rows (random bytea, tens of MB as text) are compared by their MD5, computed by the
                // server: the same equality, without holding them in the test JVM's heap.
                try (ResultSet rs = s.executeQuery("SELECT n, CASE WHEN length(a) > 1048576 THEN 'md5 ' || md5(a)"
                        + " || ' of ' || length(a) || ' characters' ELSE a END FROM (SELECT count(*) AS n,"
                        + " coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') AS a FROM " + table + " x) q")) {
                    rs.next();
                    contents.put(table, rs.getLong(1) + " rows\n" + rs.getString(2));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT coalesce(string_agg(oid::text || ':' || md5(lo_get(oid)), ','"
                    + " ORDER BY oid), '') FROM pg_largeobject_metadata")) {
                rs.next();
                contents.put("large objects", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT coalesce(string_agg(format('%I.%I', schemaname, sequencename)"
                    + " || '=' || coalesce(last_value, 0), ',' ORDER BY schemaname, sequencename), '') FROM pg_sequences")) {
                rs.next();
                contents.put("sequences", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT coalesce(string_agg(indexname, ',' ORDER BY indexname), '')"
                    + " FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog')")) {
                rs.next();
                contents.put("indexes", rs.getString(1));
            }
        }
        return contents;
    }
}
