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
        return readLines(List.of(connection.tool("pg_restore"), "--list", "--verbose"), archive, line -> true);
    }

    /**
     * The header comments of every schema entry of {@code archive} ({@code -- TOC entry ID (class C OID O)} and
     * {@code -- Name: TAG; Type: KIND; Schema: SCHEMA; Owner: OWNER}), which name the entries exactly where
     * {@link #list} prints names unquoted (see {@link RestoreList}). Like the list, this reads only the head of the
     * archive: no data is asked for. Only the header lines are kept.
     */
    public List<String> headers(InputStream archive) throws IOException {
        return readLines(List.of(connection.tool("pg_restore"), "--verbose", "--section=pre-data",
                "--section=post-data", "--file=-"), archive,
                line -> line.startsWith("-- TOC entry ") || line.startsWith("-- Name: "));
    }

    private List<String> readLines(List<String> command, InputStream archive,
                                   java.util.function.Predicate<String> keep) throws IOException {
        try (ExternalProcess process = ExternalProcess.start(command, java.util.Map.of(), true)) {
            java.util.concurrent.CompletableFuture<List<String>> lines = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try (java.io.BufferedReader reader = new java.io.BufferedReader(new java.io.InputStreamReader(
                                process.stdout(), java.nio.charset.StandardCharsets.UTF_8))) {
                            return reader.lines().filter(keep).toList();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            feed(archive, process.stdin());
            process.awaitSuccess();
            return await(lines, "cannot read what pg_restore wrote");
        }
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> result, String what) throws IOException {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(what + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** The archive itself could not be read (damaged, or not decryptable): the restore must fail. */
    public static final class ArchiveUnreadable extends IOException {
        ArchiveUnreadable(IOException cause) {
            super("cannot read the archive: " + cause.getMessage(), cause);
        }
    }

    /**
     * Copies {@code archive} into a tool's stdin, and closes it. A tool may stop reading once it has what it needs
     * (pg_restore does, after the table of contents or the last entry it was asked for): a failed write ends the
     * copy quietly, and the tool's exit status says whether it was a failure. A failed read is the archive's own
     * failure and is thrown, whatever the tool does.
     */
    static void feed(InputStream archive, OutputStream stdin) throws ArchiveUnreadable {
        byte[] buffer = new byte[1 << 16];
        try (stdin) {
            while (true) {
                int n;
                try {
                    n = archive.read(buffer);
                } catch (IOException e) {
                    throw new ArchiveUnreadable(e);
                }
                if (n < 0) {
                    return;
                }
                stdin.write(buffer, 0, n);
            }
        } catch (ArchiveUnreadable e) {
            throw e;
        } catch (IOException stoppedReading) {
            // the tool closed its end: it has what it needs, or failed, which its exit status tells
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
                feed(archive, process.stdin());
                process.awaitSuccess();
                return await(sql, "cannot read what pg_restore wrote");
            }
        } finally {
            java.nio.file.Files.deleteIfExists(list);
        }
    }
}
