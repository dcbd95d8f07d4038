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
     * Streams {@code archive} (a plain, decompressed custom-format dump) into {@code database}. An interrupt of the
     * calling thread stops it between two buffers: pg_restore is stopped and the copy fails.
     */
    public void restore(InputStream archive, String database) throws IOException {
        PgConnection.checkDatabaseName(database, "target database");
        restoreInto(archive, database);
    }

    /** As {@link #restore}, into a database whose name Stowage made (a staging name, not a user's argument). */
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
        java.nio.file.Path list = java.nio.file.Files.createTempFile("stowage-database-", ".list",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try {
            java.nio.file.Files.writeString(list, listFile);
            List<String> command = new java.util.ArrayList<>(List.of(connection.tool("pg_restore"), "--create",
                    "--use-list=" + list, "--file=-"));
            command.addAll(options.arguments());
            String sql;
            try (InputStream in = archive.open()) {
                sql = readAll(command, in);
            }
            try {
                return DatabaseProperties.parse(sql);
            } catch (SqlTokens.UnreadableSql e) {
                throw new io.stowage.StowageException("cannot read the database's own settings in the backup: "
                        + e.getMessage());
            }
        } finally {
            java.nio.file.Files.deleteIfExists(list);
        }
    }

    /** Runs {@code command} with {@code archive} on stdin; returns its stdout. pg_restore may stop reading early. */
    private static String readAll(List<String> command, InputStream archive) throws IOException {
        try (ExternalProcess process = ExternalProcess.start(command, java.util.Map.of(), true)) {
            java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (InputStream stdout = process.stdout()) {
                    return new String(stdout.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (OutputStream stdin = process.stdin()) {
                copy(archive, stdin);
            } catch (java.io.InterruptedIOException e) {
                throw e;
            } catch (IOException stoppedReading) {
                // pg_restore has what it needs (or failed, which awaitSuccess reports)
            }
            process.awaitSuccess();
            try {
                return out.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while reading the archive");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException("cannot read pg_restore's output: " + e.getCause().getMessage(), e.getCause());
            }
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
                 ExternalProcess pgRestore = ExternalProcess.start(withOptions(List.of(connection.tool("pg_restore"),
                         "--use-list=" + list, "--file=-", "--exit-on-error")), java.util.Map.of(), true)) {
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
