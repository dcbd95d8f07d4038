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
    private final Options options;

    /**
     * Who owns what is restored, and whether the backup's privileges come with it: {@code noOwner} leaves out the
     * backup's owners (objects belong to whoever creates them), {@code role} is the role that creates them
     * ({@code SET ROLE}, so it owns them with {@code noOwner}), {@code noPrivileges} leaves out GRANT and REVOKE.
     */
    public record Options(boolean noOwner, String role, boolean noPrivileges) {
        public static final Options DEFAULT = new Options(false, null, false);

        public Options {
            if (role != null && (role.isBlank() || role.length() > 63 || role.indexOf('\0') >= 0)) {
                throw io.stowage.StowageException.usage("--role '" + role + "' is not a role name (1 to 63 characters)");
            }
        }

        /** pg_restore's own options for these choices. */
        public List<String> arguments() {
            List<String> arguments = new java.util.ArrayList<>();
            if (noOwner) {
                arguments.add("--no-owner");
            }
            if (role != null) {
                arguments.add("--role=" + role);
            }
            if (noPrivileges) {
                arguments.add("--no-privileges");
            }
            return arguments;
        }
    }

    public PgRestore(PgConnection connection) {
        this(connection, Options.DEFAULT);
    }

    public PgRestore(PgConnection connection, Options options) {
        this.connection = connection;
        this.options = options;
    }

    /** Something that opens the plain custom-format archive, from its start, each time it is called. */
    @FunctionalInterface
    public interface ArchiveSource {
        InputStream open() throws IOException;
    }

    /**
     * Streams {@code archive} (a plain, decompressed custom-format dump) into {@code database}, whose name Stowage
     * made (a staging name, not a user's argument). An interrupt of the calling thread stops it between two buffers:
     * pg_restore is stopped and the copy fails.
     */
    public void restoreInto(InputStream archive, String database) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of(connection.tool("pg_restore"), "--no-password",
                "--exit-on-error"));
        command.addAll(options.arguments());
        command.add("--dbname=" + database);
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
            try {
                try (OutputStream stdin = process.stdin()) {
                    copy(archive, stdin);
                } catch (java.io.InterruptedIOException e) {
                    throw e;
                } catch (IOException e) {
                    // A broken pipe means pg_restore stopped reading: its own error says why.
                    process.awaitSuccess();
                    throw e;
                }
                process.awaitSuccess();
            } catch (io.stowage.StowageException e) {
                throw explained(process, e);
            }
        }
    }

    /**
     * The database's own entries of the archive (its owner, settings, comment and privileges; see
     * {@link DatabaseProperties}), with these options applied as pg_restore applies them: two short reads of the
     * archive's head, one for its table of contents and one for the entries' SQL.
     */
    public DatabaseProperties databaseProperties(ArchiveSource archive) throws IOException {
        List<String> toc;
        try (InputStream in = archive.open()) {
            toc = list(in);
        }
        StringBuilder listFile = new StringBuilder();
        java.util.regex.Pattern entry = java.util.regex.Pattern.compile(
                "(\\d+); \\d+ \\d+ (DATABASE PROPERTIES|DATABASE|COMMENT|ACL) - (.*)");
        for (String line : toc) {
            java.util.regex.Matcher m = entry.matcher(line);
            if (m.matches() && (m.group(2).startsWith("DATABASE") || m.group(3).startsWith("DATABASE "))) {
                listFile.append(m.group(1)).append(";\n");
            }
        }
        if (listFile.isEmpty()) {
            return DatabaseProperties.none();
        }
        List<String> create = new java.util.ArrayList<>(List.of("--create"));
        create.addAll(options.arguments());
        String sql;
        try (InputStream in = archive.open()) {
            sql = script(in, listFile.toString(), create);
        }
        try {
            return DatabaseProperties.parse(sql);
        } catch (SqlTokens.UnreadableSql e) {
            throw new io.stowage.StowageException("cannot read the database's own settings in the backup: "
                    + e.getMessage());
        }
    }

    /** Copies buffer by buffer, and stops at an interrupt of the thread (a stream copy otherwise ignores it). */
    static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            if (Thread.currentThread().isInterrupted()) {
                throw new java.io.InterruptedIOException("interrupted");
            }
            out.write(buffer, 0, n);
        }
    }

    /**
     * pg_restore's failure with what the operator can do about it: the statement it stopped at, and for a role
     * that is missing or out of reach, the option or the grant that gets past it.
     */
    private io.stowage.StowageException explained(ExternalProcess process, io.stowage.StowageException e) {
        String stderr = process.stderr();
        String command = null;
        for (String line : stderr.split("\n")) {
            if (line.startsWith("Command was: ")) {
                command = line.substring("Command was: ".length()).strip();
            }
        }
        String upper = command == null ? "" : command.toUpperCase(java.util.Locale.ROOT);
        java.util.regex.Matcher missing = java.util.regex.Pattern.compile("role \"([^\"]*)\" does not exist")
                .matcher(stderr);
        java.util.regex.Matcher member = java.util.regex.Pattern.compile("must be (?:a )?member of role \"([^\"]*)\"")
                .matcher(stderr);
        java.util.regex.Matcher setRole = java.util.regex.Pattern.compile("permission denied to set role \"([^\"]*)\"")
                .matcher(stderr);
        String hint = null;
        if (missing.find()) {
            String role = missing.group(1);
            if (upper.startsWith("SET ROLE")) {
                hint = "--role names role " + role + ", which this server does not have";
            } else if (upper.startsWith("GRANT") || upper.startsWith("REVOKE")) {
                hint = "create it (pg_dumpall --roles-only on the source server writes the roles), or add "
                        + "--no-privileges to leave out the backup's GRANT and REVOKE";
            } else {
                hint = "create it (pg_dumpall --roles-only on the source server writes the roles), or add --no-owner "
                        + "to have the objects owned by the restoring role (" + restoringRole() + ")";
            }
        } else if (member.find()) {
            hint = "add --no-owner to have the objects owned by " + restoringRole() + " (or by another role, with "
                    + "--role ROLE --no-owner), or GRANT " + member.group(1) + " TO " + connection.user()
                    + " to keep the backup's owners";
        } else if (setRole.find()) {
            hint = "GRANT " + setRole.group(1) + " TO " + connection.user();
        }
        String message = e.getMessage() + (command == null ? "" : " (while running: " + abbreviate(command) + ")")
                + (hint == null ? "" : "; HINT: " + hint);
        return new io.stowage.StowageException(message, e);
    }

    private List<String> withOptions(List<String> command) {
        List<String> all = new java.util.ArrayList<>(command);
        all.addAll(options.arguments());
        return all;
    }

    private String restoringRole() {
        return options.role() != null ? "role " + options.role() : "role " + connection.user();
    }

    private static String abbreviate(String sql) {
        String line = sql.replaceAll("\\s+", " ");
        return line.length() <= 120 ? line : line.substring(0, 117) + "...";
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
                 ExternalProcess pgRestore = ExternalProcess.start(withOptions(List.of(connection.tool("pg_restore"),
                         "--use-list=" + list, "--file=-", "--exit-on-error")), java.util.Map.of(), true)) {
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
        // psql has exited, so its stdout ends at once; the thread reading it may not have been scheduled yet.
        String id;
        try {
            id = transaction.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            id = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            id = null;
        }
        if (id == null || !id.strip().matches("\\d+")) {
            if (psqlFailure != null) {
                throw new IOException(psqlFailure.getMessage(), psqlFailure); // it failed before it began
            }
            throw new OutcomeUnknown("psql did not say which transaction it ran", null);
        }
        PostgresServer server = new PostgresServer(connection.withDatabase(database));
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
        return script(archive, listFile, List.of());
    }

    /** As {@link #script(InputStream, String)}, with more of pg_restore's options. */
    private String script(InputStream archive, String listFile, List<String> arguments) throws IOException {
        java.nio.file.Path list = java.nio.file.Files.createTempFile("stowage-list-", ".list",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try {
            java.nio.file.Files.writeString(list, listFile);
            List<String> command = new java.util.ArrayList<>(List.of(connection.tool("pg_restore"),
                    "--use-list=" + list, "--file=-"));
            command.addAll(arguments);
            try (ExternalProcess process = ExternalProcess.start(command, java.util.Map.of(), true)) {
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
