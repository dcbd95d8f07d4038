package io.stowage.engine.postgresql;

import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.ExternalProcess;
import java.io.InputStream;
import java.util.List;

/**
 * {@code pg_dump --format=custom --compress=0} as a backup source. The dump is left uncompressed by pg_dump
 * because the pipeline compresses it (with a faster codec, on its own threads); the custom format keeps
 * {@code pg_restore}'s selective restore (one table) and large objects.
 */
public final class PgDump implements BackupStream.Source {
    /** Name of the stored dump before the codec suffix: PostgreSQL custom format. */
    public static final String OBJECT_NAME = "dump.pgfc";

    private final PgConnection connection;
    private ExternalProcess process;

    public PgDump(PgConnection connection) {
        this.connection = connection;
    }

    /** The pg_dump version, for the manifest. */
    public static String toolVersion(PgConnection connection) {
        return PgTools.version(connection.tool("pg_dump"));
    }

    List<String> command() {
        // The database is passed as PGDATABASE, not --dbname: a value with '=' would be read as a connection string.
        return List.of(connection.tool("pg_dump"), "--format=custom", "--compress=0", "--no-password");
    }

    /**
     * The filter that reads the archive's contents (rows per table, indexes, foreign keys) as it passes; first in the
     * chain, so it sees pg_dump's own bytes. {@code sink} receives the tap once the stream is built.
     */
    public static BackupStream.Stage tap(java.util.function.Consumer<CustomFormatTap> sink) {
        return out -> {
            CustomFormatTap tap = new CustomFormatTap(out);
            sink.accept(tap);
            return tap;
        };
    }

    @Override
    public InputStream open() {
        process = ExternalProcess.start(command(), connection.environment(connection.database()), false);
        return process.stdout();
    }

    @Override
    public void finish() {
        process.awaitSuccess();
    }

    @Override
    public String objectName() {
        return OBJECT_NAME;
    }

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }
}
