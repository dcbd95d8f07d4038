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
     * The outcome of a selected restore is not known: psql failed after it had been sent the COMMIT, and the server
     * could not say whether the transaction committed. The target may hold the restored table or not.
     */
    public static final class OutcomeUnknown extends IOException {
        OutcomeUnknown(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Restores the entries of {@code listFile} from {@code archive} (read once, from stdin) into {@code database}, in
     * one transaction: {@code pg_restore --use-list --file=-} writes the SQL, and psql runs {@code BEGIN},
     * {@code before}, that SQL and {@code after}. The COMMIT is written to psql only once pg_restore has exited 0 and
     * the archive was read without error as far as pg_restore read it (pg_restore stops reading after the last
     * entry it was asked for: that is not an error). Any other end, a kill of this process included, leaves psql
     * without a COMMIT, and the server rolls everything back.
     *
     * <p>Returns normally only when the transaction committed (psql reports success, or, when psql failed after the
     * COMMIT was sent, the server says so for the transaction's id). Throws {@link OutcomeUnknown} when that cannot
     * be known; any other exception means nothing was committed.
     */
    public void restoreSelected(InputStream archive, String listFile, String database, List<String> before,
                                List<String> after) throws IOException {
        PgConnection.checkDatabaseName(database, "target database");
        java.nio.file.Path list = java.nio.file.Files.createTempFile("stowage-restore-", ".list",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try {
            java.nio.file.Files.writeString(list, listFile);
            // Without --single-transaction: that would COMMIT at the end of stdin, however stdin ended.
            List<String> psqlCommand = List.of(connection.tool("psql"), "--no-psqlrc", "--quiet", "--no-password",
                    "--set=ON_ERROR_STOP=1", "--tuples-only", "--no-align", "--file=-");
            try (ExternalProcess psql = ExternalProcess.start(psqlCommand, connection.environment(database), true);
                 ExternalProcess pgRestore = ExternalProcess.start(List.of(connection.tool("pg_restore"),
                         "--use-list=" + list, "--file=-", "--exit-on-error"), java.util.Map.of(), true)) {
                java.util.concurrent.CompletableFuture<String> transaction = firstLine(psql);
                java.util.concurrent.CompletableFuture<Void> feed = java.util.concurrent.CompletableFuture.runAsync(
                        () -> {
                            try {
                                feed(archive, pgRestore.stdin());
                            } catch (ArchiveUnreadable e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        });
                OutputStream sql = psql.stdin();
                IOException psqlStopped = null;
                try {
                    // The transaction's id first, so that its outcome can be asked for if psql fails late; then no
                    // more output (pg_restore's script selects set_config and setval).
                    write(sql, "BEGIN;\nSELECT txid_current();\n\\o /dev/null\n", before);
                    try (InputStream script = pgRestore.stdout()) {
                        script.transferTo(sql);
                    }
                } catch (IOException e) {
                    psqlStopped = e; // psql stopped reading: its own error says why
                }
                IOException failure = psqlStopped != null ? null : sourceFailure(pgRestore, feed);
                if (psqlStopped != null || failure != null) {
                    pgRestore.close();
                    feed.exceptionally(ignored -> null).join(); // ends once pg_restore is gone
                    closeQuietly(sql); // no COMMIT: psql ends, and the server rolls the transaction back
                    try {
                        psql.awaitSuccess();
                    } catch (RuntimeException psqlFailure) {
                        if (failure == null) {
                            throw psqlFailure;
                        }
                    }
                    throw failure != null ? failure : psqlStopped;
                }
                try {
                    write(sql, "", after);
                    sql.write("COMMIT;\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    sql.close();
                } catch (IOException stopped) {
                    // psql ended before reading it all: its exit status says why, and the outcome is asked below
                }
                RuntimeException psqlFailure = null;
                try {
                    psql.awaitSuccess();
                } catch (RuntimeException e) {
                    psqlFailure = e;
                }
                requireCommitted(database, transaction, psqlFailure);
            }
        } finally {
            java.nio.file.Files.deleteIfExists(list);
        }
    }

    private static void write(OutputStream sql, String head, List<String> statements) throws IOException {
        StringBuilder text = new StringBuilder(head);
        statements.forEach(statement -> text.append(statement).append(";\n"));
        sql.write(text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void closeQuietly(OutputStream out) {
        try {
            out.close();
        } catch (IOException ignored) {
            // the reader is gone already
        }
    }

    /** psql's first line of output (the transaction id), the rest drained so psql never blocks on it. */
    private static java.util.concurrent.CompletableFuture<String> firstLine(ExternalProcess psql) {
        java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
        Thread drain = new Thread(() -> {
            try (java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(psql.stdout(),
                    java.nio.charset.StandardCharsets.UTF_8))) {
                first.complete(out.readLine());
                out.transferTo(java.io.Writer.nullWriter());
            } catch (IOException e) {
                first.complete(null);
            }
        }, "psql-stdout");
        drain.setDaemon(true);
        drain.start();
        return first;
    }

    /**
     * Why the SQL pg_restore wrote must not be committed, once its stdout has ended: the archive could not be read
     * (the first cause, when pg_restore then failed on the truncated input too), or pg_restore failed; null if
     * neither.
     */
    private static IOException sourceFailure(ExternalProcess pgRestore,
                                             java.util.concurrent.CompletableFuture<Void> feed) {
        RuntimeException restoreFailure = null;
        try {
            pgRestore.awaitSuccess();
        } catch (RuntimeException e) {
            restoreFailure = e;
            pgRestore.close();
        }
        try {
            feed.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause()
                    : new IOException(e.getCause().getMessage(), e.getCause());
        }
        return restoreFailure == null ? null : new IOException(restoreFailure.getMessage(), restoreFailure);
    }

    /**
     * Returns if the transaction committed: psql exited 0 after the COMMIT it was sent, and the server agrees. When
     * psql failed, the server's record of the transaction decides (it may have committed before the connection
     * was lost, or still be finishing).
     */
    private void requireCommitted(String database, java.util.concurrent.CompletableFuture<String> transaction,
                                  RuntimeException psqlFailure) throws IOException {
        String id = transaction.getNow(null);
        if (id == null || !id.strip().matches("\\d+")) {
            if (psqlFailure != null) {
                throw new IOException(psqlFailure.getMessage(), psqlFailure); // it failed before it began
            }
            throw new OutcomeUnknown("psql did not say which transaction it ran", null);
        }
        PostgresServer server = new PostgresServer(new PgConnection(connection.host(), connection.port(),
                connection.user(), connection.password(), database, connection.binDir()));
        String status;
        try {
            status = server.transactionStatus(Long.parseLong(id.strip()), 60_000);
        } catch (RuntimeException e) {
            throw new OutcomeUnknown((psqlFailure == null ? "" : psqlFailure.getMessage() + "; ")
                    + "cannot ask whether transaction " + id.strip() + " committed: " + e.getMessage(), e);
        }
        if ("committed".equals(status)) {
            return;
        }
        if ("aborted".equals(status)) {
            throw psqlFailure != null ? new IOException(psqlFailure.getMessage(), psqlFailure)
                    : new IOException("the transaction was rolled back");
        }
        throw new OutcomeUnknown((psqlFailure == null ? "" : psqlFailure.getMessage() + "; ") + "transaction "
                + id.strip() + " is " + (status == null ? "no longer known to the server" : status), psqlFailure);
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
