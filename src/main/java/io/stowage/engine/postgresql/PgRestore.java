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

    /**
     * The table of contents of {@code archive}, as {@code pg_restore --list --verbose} prints it (with each entry's
     * dependencies). pg_restore reads only the head of the archive, where the list is, and stops: reading stops
     * with it, so listing a large archive costs little.
     */
    public List<String> list(InputStream archive) throws IOException {
        List<String> command = List.of(connection.tool("pg_restore"), "--list", "--verbose");
        try (ExternalProcess process = ExternalProcess.start(command, java.util.Map.of(), true)) {
            java.util.concurrent.CompletableFuture<List<String>> lines = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try (java.io.BufferedReader reader = new java.io.BufferedReader(new java.io.InputStreamReader(
                                process.stdout(), java.nio.charset.StandardCharsets.UTF_8))) {
                            return reader.lines().toList();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            try (OutputStream stdin = process.stdin()) {
                archive.transferTo(stdin);
            } catch (IOException stoppedReading) {
                // pg_restore has what it needs (or failed, which awaitSuccess reports)
            }
            process.awaitSuccess();
            try {
                return lines.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while listing the archive", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("cannot read pg_restore's list: " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    /**
     * Restores the entries of {@code listFile} from {@code archive} (read once, from stdin) into {@code database}, in
     * one transaction: {@code pg_restore --use-list --file=-} writes the SQL, which {@code psql --single-transaction}
     * runs after {@code before} and followed by {@code after}. Any error rolls all of it back.
     */
    public void restoreSelected(InputStream archive, String listFile, String database, List<String> before,
                                List<String> after) throws IOException {
        PgConnection.checkDatabaseName(database, "target database");
        java.nio.file.Path list = java.nio.file.Files.createTempFile("stowage-restore-", ".list",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try {
            java.nio.file.Files.writeString(list, listFile);
            List<String> psqlCommand = new java.util.ArrayList<>(List.of(connection.tool("psql"), "--no-psqlrc",
                    "--quiet", "--no-password", "--single-transaction", "--set=ON_ERROR_STOP=1", "--output=/dev/null"));
            for (String sql : before) {
                psqlCommand.add("--command=" + sql);
            }
            psqlCommand.add("--file=-");
            for (String sql : after) {
                psqlCommand.add("--command=" + sql);
            }
            try (ExternalProcess psql = ExternalProcess.start(psqlCommand, connection.environment(database), true);
                 ExternalProcess pgRestore = ExternalProcess.start(List.of(connection.tool("pg_restore"),
                         "--use-list=" + list, "--file=-", "--exit-on-error"), java.util.Map.of(), true)) {
                Thread drain = new Thread(() -> {
                    try (InputStream out = psql.stdout()) {
                        out.transferTo(OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                        // the process ended
                    }
                }, "psql-stdout");
                drain.setDaemon(true);
                drain.start();
                java.util.concurrent.CompletableFuture<Void> feed = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try (OutputStream stdin = pgRestore.stdin()) {
                        archive.transferTo(stdin);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                IOException copyFailure = null;
                try (InputStream sql = pgRestore.stdout(); OutputStream stdin = psql.stdin()) {
                    sql.transferTo(stdin);
                } catch (IOException e) {
                    copyFailure = e; // psql stopped reading: its own error says why
                }
                if (copyFailure != null) {
                    pgRestore.close();
                }
                psql.awaitSuccess();
                pgRestore.awaitSuccess();
                try {
                    feed.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause()
                            : new IOException(e.getCause().getMessage(), e.getCause());
                }
                if (copyFailure != null) {
                    throw copyFailure;
                }
            }
        } finally {
            java.nio.file.Files.deleteIfExists(list);
        }
    }

    /**
     * The SQL of a few schema entries of {@code archive} (no table data: pg_restore stops after the list), as
     * {@code pg_restore --use-list --file=-} writes it.
     */
    public String script(InputStream archive, String listFile) throws IOException {
        java.nio.file.Path list = java.nio.file.Files.createTempFile("stowage-list-", ".list",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try {
            java.nio.file.Files.writeString(list, listFile);
            try (ExternalProcess process = ExternalProcess.start(List.of(connection.tool("pg_restore"),
                    "--use-list=" + list, "--file=-"), java.util.Map.of(), true)) {
                java.util.concurrent.CompletableFuture<String> sql = java.util.concurrent.CompletableFuture.supplyAsync(
                        () -> {
                            try (InputStream out = process.stdout()) {
                                return new String(out.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                            } catch (IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        });
                try (OutputStream stdin = process.stdin()) {
                    archive.transferTo(stdin);
                } catch (IOException stoppedReading) {
                    // pg_restore has what it needs
                }
                process.awaitSuccess();
                return sql.join();
            }
        } finally {
            java.nio.file.Files.deleteIfExists(list);
        }
    }
}
