package io.stowage.engine.postgresql;

import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;

/**
 * {@code pg_restore} into an existing, empty database, reading the custom-format archive from stdin. It stops at the
 * first error ({@code --exit-on-error}): a restore that reports success restored everything.
 */
public final class PgRestore {
    private final PgConnection connection;

    public PgRestore(PgConnection connection) {
        this.connection = connection;
    }

    /** Streams {@code archive} (a plain, decompressed custom-format dump) into {@code database}. */
    public void restore(InputStream archive, String database) throws IOException {
        PgConnection.checkDatabaseName(database, "target database");
        List<String> command = List.of(connection.tool("pg_restore"), "--no-password", "--exit-on-error",
                "--dbname=" + database);
        try (ExternalProcess process = ExternalProcess.start(command, connection.environment(database), true)) {
            // pg_restore writes nothing to stdout when it restores into a database; drain it anyway so it can never block.
            Thread drain = new Thread(() -> {
                try (InputStream out = process.stdout()) {
                    out.transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // the process ended
                }
            }, "pg_restore-stdout");
            drain.setDaemon(true);
            drain.start();
            try (OutputStream stdin = process.stdin()) {
                archive.transferTo(stdin);
            } catch (IOException e) {
                // A broken pipe means pg_restore stopped reading: its own error says why.
                process.awaitSuccess();
                throw e;
            }
            process.awaitSuccess();
        }
    }
}
