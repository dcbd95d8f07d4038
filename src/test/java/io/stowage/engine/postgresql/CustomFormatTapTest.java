package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.pipeline.ExternalProcess;
import io.stowage.testing.ThrowawayPostgres;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The custom-format tap on real pg_dump output: rows per table (values with newlines, an empty table, a large one,
 * a last row that looks like the end-of-data line), indexes and foreign keys from the TOC, and large objects passed
 * over; whatever it cannot read leaves no counts and never disturbs the bytes.
 */
class CustomFormatTapTest {
    private static final String DB = "tap_source";
    private static ThrowawayPostgres pg;

    @BeforeAll
    static void createSource() {
        pg = ThrowawayPostgres.get();
        pg.createDatabase(DB,
                "CREATE SCHEMA sales",
                "CREATE TABLE public.notes (id int, body text)",
                "INSERT INTO public.notes VALUES (1, E'first line\\nsecond line'), (2, E'windows\\r\\nline'),"
                        + " (3, E'tab\\there'), (4, E'\\\\.'), (5, E'ends with newline\\n')",
                "CREATE UNIQUE INDEX notes_id ON public.notes (id)",
                "CREATE TABLE public.empty_table (id int)",
                "CREATE TABLE public.big (id bigint PRIMARY KEY, v text)",
                "INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, 300000) g",
                "CREATE TABLE sales.orders (id serial PRIMARY KEY, big_id bigint REFERENCES public.big (id), note text)",
                "CREATE INDEX orders_big ON sales.orders (big_id)",
                "INSERT INTO sales.orders (big_id, note) SELECT g, 'order ' || g FROM generate_series(1, 1234) g",
                // A one-column table whose last rows are "\." and two empty strings: its data ends like the
                // end-of-data line pg_dump may write, and must still count as three rows.
                "CREATE TABLE public.edge (t text)",
                "INSERT INTO public.edge VALUES (E'\\\\.'), (''), ('')",
                "SELECT lo_from_bytea(0, convert_to(repeat('large object ', 5000), 'UTF8'))");
    }

    @AfterAll
    static void drop() {
        pg.dropDatabase(DB);
    }

    private static PgConnection connection() {
        return new PgConnection(pg.host(), pg.port(), ThrowawayPostgres.USER, ThrowawayPostgres.PASSWORD, DB,
                pg.binDir().toString());
    }

    /** pg_dump's whole output, as the backup runs it (or with other options). */
    private static byte[] dump(String... options) throws Exception {
        PgConnection connection = connection();
        List<String> command = new java.util.ArrayList<>(List.of(connection.tool("pg_dump"), "--format=custom",
                "--no-password"));
        command.addAll(List.of(options));
        try (ExternalProcess process = ExternalProcess.start(command, connection.environment(DB), false);
             InputStream in = process.stdout()) {
            byte[] bytes = in.readAllBytes();
            process.awaitSuccess();
            return bytes;
        }
    }

    /** Feeds bytes through a tap in pieces of random sizes (1 byte to 64 KiB), so every field crosses a boundary. */
    private static CustomFormatTap tap(byte[] bytes, long seed) throws Exception {
        ByteArrayOutputStream copy = new ByteArrayOutputStream(bytes.length);
        CustomFormatTap tap = new CustomFormatTap(copy);
        Random random = new Random(seed);
        int i = 0;
        while (i < bytes.length) {
            int n = Math.min(bytes.length - i, random.nextInt(4) == 0 ? 1 + random.nextInt(7)
                    : 1 + random.nextInt(65536));
            if (n == 1) {
                tap.write(bytes[i]);
            } else {
                tap.write(bytes, i, n);
            }
            i += n;
        }
        tap.close();
        assertThat(copy.toByteArray()).as("the tap passes every byte unchanged").isEqualTo(bytes);
        return tap;
    }

    @Test
    void should_count_the_rows_of_every_table_and_the_indexes_and_foreign_keys_of_a_real_dump() throws Exception {
        byte[] dump = dump("--compress=0");
        for (long seed = 1; seed <= 3; seed++) {
            CustomFormatTap tap = tap(dump, seed);
            assertThat(tap.stopReason()).isNull();
            CustomFormatTap.Contents contents = tap.contents().orElseThrow();
            assertThat(contents.tables()).containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of(
                    "public.big", 300000L, "public.edge", 3L, "public.empty_table", 0L, "public.notes", 5L,
                    "sales.orders", 1234L)));
            assertThat(contents.indexes()).isEqualTo(2);
            assertThat(contents.foreignKeys()).isEqualTo(1);
        }
    }

    @Test
    void should_count_rows_through_the_backup_source_itself_in_one_pass() throws Exception {
        PgDump source = new PgDump(connection());
        CustomFormatTap tap;
        try (source; InputStream in = source.open(); OutputStream out = new CustomFormatTap(OutputStream.nullOutputStream())) {
            tap = (CustomFormatTap) out;
            in.transferTo(out);
            source.finish();
        }
        assertThat(tap.contents().orElseThrow().tables()).containsEntry("public.big", 300000L)
                .containsEntry("public.notes", 5L).hasSize(5);
    }

    @Test
    void should_record_nothing_and_pass_every_byte_when_it_cannot_read_the_archive() throws Exception {
        CustomFormatTap compressed = tap(dump("--compress=6"), 7);
        assertThat(compressed.contents()).isEmpty();
        assertThat(compressed.stopReason()).contains("compressed");

        byte[] whole = dump("--compress=0");
        CustomFormatTap truncated = tap(java.util.Arrays.copyOf(whole, whole.length / 2), 8);
        assertThat(truncated.contents()).isEmpty();
        assertThat(truncated.stopReason()).startsWith("the archive ended inside");

        byte[] newer = whole.clone();
        newer[6] = 99; // archive version 1.99
        CustomFormatTap unknown = tap(newer, 9);
        assertThat(unknown.contents()).isEmpty();
        assertThat(unknown.stopReason()).contains("archive version 1.99");

        byte[] noise = new byte[200_000];
        new Random(3).nextBytes(noise);
        CustomFormatTap garbage = tap(noise, 10);
        assertThat(garbage.contents()).isEmpty();
        assertThat(garbage.stopReason()).contains("PGDMP");
    }
}
