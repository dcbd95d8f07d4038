package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.stowage.pipeline.ExternalProcess;
import io.stowage.testing.ThrowawayPostgres;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A selection of an archive restored through {@code pg_restore --use-list} into psql, in one transaction, with real
 * tools and a real server: pg_restore stopping early is not a failure; an archive that cannot be read to where the
 * selection ends is, and then nothing is committed, whatever pg_restore had already written.
 */
class PgRestoreTest {
    private static final String DB = "pgrestore_src";
    private static ThrowawayPostgres pg;
    private static byte[] archive;
    private static List<String> toc;

    @BeforeAll
    static void dumpASource() throws Exception {
        pg = ThrowawayPostgres.get();
        pg.createDatabase(DB, "CREATE TABLE first (id int PRIMARY KEY, note text)",
                "INSERT INTO first SELECT g, 'first ' || g FROM generate_series(1, 100) g",
                "CREATE TABLE second (id int PRIMARY KEY, data text)",
                "INSERT INTO second SELECT g, md5(g::text) || md5((-g)::text) FROM generate_series(1, 40000) g");
        PgConnection connection = connection(DB);
        try (ExternalProcess dump = ExternalProcess.start(List.of(connection.tool("pg_dump"), "--format=custom",
                "--compress=0", "--no-password"), connection.environment(DB), false);
             InputStream out = dump.stdout()) {
            archive = out.readAllBytes();
            dump.awaitSuccess();
        }
        toc = new PgRestore(connection).list(new ByteArrayInputStream(archive));
    }

    private static PgConnection connection(String database) {
        return new PgConnection(pg.host(), pg.port(), ThrowawayPostgres.USER, ThrowawayPostgres.PASSWORD, database,
                pg.binDir().toString());
    }

    /** The list lines of {@code table}'s definition, data and primary key. */
    private static String entriesOf(String table) {
        return toc.stream().filter(line -> line.matches("\\d+; \\d+ \\d+ (TABLE|TABLE DATA) public " + table + " .*")
                        || line.matches("\\d+; \\d+ \\d+ CONSTRAINT public " + table + " " + table + "_pkey .*"))
                .map(line -> line + "\n").collect(Collectors.joining());
    }

    /** The archive, failing to read past {@code limit} bytes as a damaged or undecryptable stream does. */
    private static InputStream damagedAfter(long limit) {
        return new FilterInputStream(new ByteArrayInputStream(archive)) {
            private long read;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (read >= limit) {
                    throw new IOException("damaged archive: cannot read past byte " + limit);
                }
                int n = super.read(b, off, (int) Math.min(len, limit - read));
                read += Math.max(n, 0);
                return n;
            }
        };
    }

    @Test
    void should_restore_entries_that_end_long_before_the_archive_does() throws Exception {
        String target = "pgrestore_first";
        pg.createDatabase(target);
        assertThat(entriesOf("first").lines()).hasSize(3);
        new PgRestore(connection(target)).restoreSelected(new ByteArrayInputStream(archive), entriesOf("first"), target,
                List.of(), List.of());
        assertThat(pg.number(target, "SELECT count(*) FROM first")).isEqualTo(100);
        pg.dropDatabase(target);
    }

    @Test
    void should_commit_nothing_when_the_archive_cannot_be_read_to_the_end_of_the_selection() throws Exception {
        String target = "pgrestore_damaged";
        pg.dropDatabase(target);
        pg.execute("postgres", "CREATE DATABASE " + target + " TEMPLATE " + DB);
        pg.execute(target, "UPDATE second SET data = 'kept' WHERE id = 1");
        PgRestore tools = new PgRestore(connection(target));
        // The read fails in the middle of the rows of "second": pg_restore has already written the table and part
        // of its rows to psql.
        Throwable failure = catchThrowable(() -> tools.restoreSelected(damagedAfter(archive.length * 2L / 3),
                entriesOf("second"), target, List.of("DROP TABLE public.second"), List.of()));
        assertThat(pg.number(target, "SELECT count(*) FROM second")).isEqualTo(40000);
        assertThat(pg.number(target, "SELECT count(*) FROM second WHERE data = 'kept'")).as("the table as it was")
                .isEqualTo(1);
        assertThat(failure).hasMessageContaining("damaged archive: cannot read past byte");
        pg.dropDatabase(target);
    }
}
