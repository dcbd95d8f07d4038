package io.stowage.engine.postgresql;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PgRestore;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.engine.postgresql.RestoreList;
import io.stowage.engine.postgresql.RestoreTarget;
import io.stowage.engine.postgresql.TableName;
import io.stowage.job.Job;
import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Restores one table, with what belongs to it, into a database on the job's server, leaving the rest of that
 * database alone. From a logical backup the stored dump is read twice, both times as a stream: once for its table of
 * contents (pg_restore reads only the head), once for the restore itself, which pg_restore makes from the selected
 * entries ({@link RestoreList}) as SQL that psql runs in one transaction. From a physical backup a
 * {@link ScratchServer} is made to the requested point, the table is dumped from it, and that dump goes through
 * the same restore.
 *
 * <p>An existing table is refused unless {@code force}; then, in the same transaction as the restore, the foreign
 * keys of other tables that reference it are dropped, the table is dropped (not CASCADE: a view on it makes the
 * restore fail, with nothing changed), and after the restore the foreign keys are added back, valid where the
 * restored rows satisfy them, else {@code NOT VALID} with a warning. Foreign keys of the table itself come only
 * where the table they reference exists in the target; others are skipped, with a warning.
 *
 * <p>A partitioned table is restored with its whole tree, as the backup has it (in place, the current tree is
 * dropped with it). A partition is restored under its parent, which the target must have (else it is refused before
 * anything is written): re-created, filled, given its indexes and constraints, and only then attached with the
 * bounds it had, in the same transaction, so that the parent sees its rows.
 */
public final class TableRestore {
    private final io.stowage.engine.EngineContext services;
    private final Consumer<String> warnings;

    private final PgRestore.Options options;

    public TableRestore(io.stowage.engine.EngineContext services, Consumer<String> warnings) {
        this(services, warnings, PgRestore.Options.DEFAULT);
    }

    /** With {@code options}: the owners and privileges of the restored table (--no-owner, --role, --no-privileges). */
    public TableRestore(io.stowage.engine.EngineContext services, Consumer<String> warnings, PgRestore.Options options) {
        this.services = services;
        this.warnings = warnings;
        this.options = options;
    }

    /**
     * What was restored: {@code table}, a partition of {@code parent} (null if it is none) attached again, with
     * {@code partitions} partitions of its own (0 for a table that is not partitioned).
     */
    public record Result(CatalogEntry backup, TableName table, TableName parent, int partitions, String target,
                         boolean replaced, boolean createdDatabase, double seconds) {
        /** The table, as the command's report names it. */
        public String described() {
            String of = partitions == 1 ? " partition)" : " partitions)";
            return table + (parent != null ? " (a partition of " + parent + ")" : "")
                    + (partitions > 0 ? " (partitioned: " + partitions + of : "");
        }
    }

    /** From a logical backup ({@code backupId}: an id or latest). */
    public Result restoreLogical(Job job, String backupId, TableName table, String target, boolean force)
            throws IOException {
        LogicalRestore.checkLogical(job, "--table");
        PgConnection.checkDatabaseName(target, "target database");
        RestoreTarget.checkTargetName(target);
        PgConnection connection = PgConnection.of(job);
        refuseExistingTable(connection, table, target, force);
        long started = System.nanoTime();
        CatalogEntry entry = services.catalog().find(job.name(), backupId, warnings);
        io.stowage.engine.EngineContext.requireMadeBy(job, entry);
        LogicalRestore logical = new LogicalRestore(services, warnings);
        try (LogicalRestore.Archive archive = logical.openArchive(entry)) {
            return restore(connection, archive::open, "backup " + entry.id(), entry, table, target, force, started);
        }
    }

    /**
     * From a physical backup: a scratch server restored to {@code time} (or from {@code backupId}), the table dumped
     * from its database {@code sourceDatabase} into the scratch directory, restored from there; the scratch server is
     * stopped and its directory deleted whatever happens.
     */
    public Result restorePhysical(Job job, String backupId, PhysicalRestore.Target time, String sourceDatabase,
                                  TableName table, String target, boolean force) throws Exception {
        PgConnection.checkDatabaseName(target, "target database");
        RestoreTarget.checkTargetName(target);
        PgConnection.checkDatabaseName(sourceDatabase, "source database");
        PgConnection connection = PgConnection.of(job);
        refuseExistingTable(connection, table, target, force); // before the long part
        long started = System.nanoTime();
        try (ScratchServer scratch = ScratchServer.start(services, job, backupId, time, warnings)) {
            String from = "backup " + scratch.backup().id() + at(time);
            Path dump = dumpForTable(scratch, sourceDatabase, table, from);
            return restore(connection, () -> Files.newInputStream(dump), from, scratch.backup(), table, target, force,
                    started);
        }
    }

    /** Arguments beyond this many characters could pass the kernel's limit (2 MB, with the environment). */
    private static final int ARGUMENTS_LIMIT = 1 << 20;

    /**
     * What a logical backup would give for {@code table}: the schema of the whole database, and the rows of only
     * the table and its partitions ({@code --exclude-table-data} for every other table; sequences keep their
     * values), so that the same selection as from a logical backup brings the functions, types, domains and
     * sequences the table uses where the target lacks them; pg_dump --table would leave those out. Written to a file
     * in the scratch directory: the table of contents must be read before the restore starts, and a second pg_dump
     * is not sure to number its entries the same. The scratch directory already holds the whole cluster; the
     * schema and one table's rows beside it are the lesser cost.
     */
    private static Path dumpForTable(ScratchServer scratch, String sourceDatabase, TableName table, String from)
            throws IOException {
        if (!new PostgresServer(scratch.connection("postgres")).databaseExists(sourceDatabase)) {
            throw new StowageException("database '" + sourceDatabase + "' is not in " + from + "; HINT: name the "
                    + "database that holds the table with --source-database");
        }
        PgConnection source = scratch.connection(sourceDatabase);
        PostgresServer server = new PostgresServer(source);
        List<TableName> tree = server.tableTree(table);
        if (tree.isEmpty()) {
            throw new StowageException("table " + table + " is not in database '" + sourceDatabase + "' of " + from);
        }
        Path dump = scratch.directory().resolve("table.pgfc");
        List<String> command = new ArrayList<>(List.of(source.tool("pg_dump"), "--format=custom", "--compress=0",
                "--no-password", "--no-blobs", "--file=" + dump));
        int length = 0;
        for (TableName other : server.tablesWithData()) {
            if (!tree.contains(other)) {
                String exclude = "--exclude-table-data=" + other.sql(); // quoted: a pattern that matches that name only
                length += exclude.length() + 1;
                command.add(exclude);
            }
        }
        if (length > ARGUMENTS_LIMIT) {
            throw new StowageException("database '" + sourceDatabase + "' of " + from + " has too many tables to name "
                    + "them on pg_dump's command line; HINT: restore the whole backup with --target-datadir and take "
                    + "the table from there with pg_dump");
        }
        try (ExternalProcess pgDump = ExternalProcess.start(command, source.environment(sourceDatabase), false);
             InputStream out = pgDump.stdout()) {
            out.transferTo(OutputStream.nullOutputStream());
            pgDump.awaitSuccess();
        }
        return dump;
    }

    private static String at(PhysicalRestore.Target time) {
        return time.time() != null ? " at " + time.time() : time.latest() ? " with all archived WAL" : "";
    }

    private static void refuseExistingTable(PgConnection connection, TableName table, String target, boolean force) {
        PostgresServer maintenance = new PostgresServer(LogicalRestore.maintenance(connection, target));
        if (!force && maintenance.databaseExists(target)
                && new PostgresServer(connection.withDatabase(target)).relationExists(table)) {
            throw new StowageException("table " + table + " already exists in database '" + target + "'; HINT: add "
                    + "--force to replace that table (only it: the rest of the database is left as it is), or restore "
                    + "into another --target-database");
        }
    }

    /**
     * The archive's table of contents with the exact names of its entries: two reads of the archive's head, one
     * for the list and its dependencies, one for the headers that name each entry.
     */
    private static RestoreList tableOfContents(PgRestore tools, PgRestore.ArchiveSource archive) throws IOException {
        List<String> list;
        try (InputStream in = archive.open()) {
            list = tools.list(in);
        }
        try (InputStream in = archive.open()) {
            return RestoreList.parse(list, tools.headers(in));
        }
    }

    /** The SQL of one schema entry of the archive. */
    private static String script(PgRestore tools, PgRestore.ArchiveSource archive, RestoreList toc,
                                 RestoreList.Entry entry) {
        try (InputStream in = archive.open()) {
            return tools.script(in, toc.listFile(List.of(entry)));
        } catch (IOException e) {
            throw new StowageException("cannot read entry " + entry.id() + " of the archive: " + e.getMessage(), e);
        }
    }

    /** The schemas the restored tables and what they need live in, which the target must have. */
    private static java.util.Set<String> schemasOf(RestoreList.Selection selection) {
        java.util.Set<String> schemas = new java.util.LinkedHashSet<>();
        selection.tables().forEach(t -> schemas.add(t.schema()));
        selection.needs().stream().filter(e -> e.named() && e.schema() != null).forEach(e -> schemas.add(e.schema()));
        return schemas;
    }

    private Result restore(PgConnection connection, PgRestore.ArchiveSource archive, String from, CatalogEntry entry,
                           TableName table, String target, boolean force, long started) throws IOException {
        PgRestore tools = new PgRestore(connection, options);
        RestoreList toc = tableOfContents(tools, archive);
        RestoreList.Selection selection = toc.select(table, e -> script(tools, archive, toc, e));
        if (selection == null) {
            throw new StowageException("table " + table + " is not in " + from);
        }
        PgConnection maintenanceConnection = LogicalRestore.maintenance(connection, target);
        PostgresServer maintenance = new PostgresServer(maintenanceConnection);
        PostgresServer server = new PostgresServer(connection.withDatabase(target));
        boolean databaseExists = maintenance.databaseExists(target);
        TableName parent = selection.parent();
        if (parent != null && !(databaseExists && server.isPartitioned(parent))) {
            // Without its parent a partition would be a table of its own: its rows not where the parent's users
            // look for them. Refused before anything is written.
            boolean notPartitioned = databaseExists && server.relationExists(parent);
            throw new StowageException("table " + table + " is a partition of " + parent + ", which is not in "
                    + "database '" + target + "'" + (notPartitioned ? " as a partitioned table" : "")
                    + "; HINT: restore " + parent + " (it comes with every partition), or restore the partition into a "
                    + "database that has its parent");
        }
        List<String> before = new ArrayList<>();
        List<String> after = new ArrayList<>();
        List<PostgresServer.ForeignKey> referencing = List.of();
        boolean replaced = false;
        for (String schema : schemasOf(selection)) {
            if (!databaseExists) {
                before.add("CREATE SCHEMA IF NOT EXISTS " + TableName.quote(schema));
            } else if (!server.schemaExists(schema)) {
                before.add("CREATE SCHEMA " + TableName.quote(schema));
            }
        }
        if (databaseExists && server.relationExists(table)) {
            if (!force) {
                throw new StowageException("table " + table + " already exists in database '" + target + "'; HINT: "
                        + "add --force to replace that table");
            }
            // Keys that reference the table, its partitions, or (for a partition) its ancestors, whose rows it
            // holds: PostgreSQL would refuse to drop it under them.
            referencing = server.foreignKeysReferencing(table);
            referencing.forEach(key -> before.add(key.dropSql()));
            before.add("DROP TABLE " + table.sql()); // with its partitions, as the backup has its own
            referencing.forEach(key -> after.add(key.addBackSql()));
            replaced = true;
        }
        List<RestoreList.Entry> chosen = new ArrayList<>(selection.all());
        for (var key : selection.foreignKeys().entrySet()) {
            // The referenced table is read from the key's own SQL: an archive of one table (pg_dump --table) does
            // not list the tables its keys reference.
            TableName other = RestoreList.referencedTable(script(tools, archive, toc, key.getKey()));
            boolean present = other != null && (selection.tables().contains(other)
                    || databaseExists && server.relationExists(other));
            if (!present) {
                chosen.remove(key.getKey());
                TableName on = key.getValue();
                warnings.accept("foreign key " + key.getKey().tag().substring(on.name().length() + 1) + " of " + on
                        + " was not restored: it references " + other + ", which is not in database '" + target + "'");
            }
        }
        for (RestoreList.Entry needed : selection.needs()) {
            if (!needed.named()) {
                throw new StowageException("restore of table " + table + " needs entry " + needed.id() + " of " + from
                        + ", which cannot be told apart from another entry of its table of contents; HINT: restore "
                        + "the whole backup into another database and take the table from there");
            }
            if (!databaseExists || !server.objectExists(needed.kind(), needed.schema(), needed.tag())) {
                chosen.add(needed);
                if (needed.kind().equals("SEQUENCE")) {
                    chosen.addAll(toc.sequenceSets(needed));
                }
            }
        }
        // A new database is built under a staging name and takes its own only once the table is in it (see
        // RestoreTarget): a restore killed at any point leaves no database under the target's name.
        RestoreTarget into = databaseExists ? null : RestoreTarget.open(maintenanceConnection, target);
        try (InputStream in = archive.open()) {
            if (into != null) {
                into.removeLeftovers(warnings);
                into.create(options.role(), "stowage: unfinished restore of table " + table + " from " + from
                        + " into database " + target + ", started " + java.time.Instant.now().truncatedTo(
                        java.time.temporal.ChronoUnit.SECONDS) + " by process " + ProcessHandle.current().pid()
                        + "; not a complete database");
            }
            tools.restoreSelected(in, toc.listFile(selection, chosen), into == null ? target : into.staging(), before,
                    after);
            if (into != null) {
                Interruption.check();
                into.commit(false, List.of(), warnings);
            }
        } catch (PgRestore.OutcomeUnknown e) {
            if (into != null) {
                // Whatever was committed went into the staging copy, which nobody sees: it goes.
                throw new StowageException("restore of table " + table + " from " + from + " into database '" + target
                        + "' failed: " + e.getMessage() + "; " + into.abandon(), e);
            }
            throw new StowageException("restore of table " + table + " from " + from + " into database '" + target
                    + "' failed, and whether it was committed is unknown: " + e.getMessage() + "; HINT: look at table "
                    + table + " in database '" + target + "' before you try again", e);
        } catch (IOException | RuntimeException e) {
            String outcome = databaseExists ? "nothing was changed in database '" + target + "'" : into.abandon();
            throw new StowageException("restore of table " + table + " from " + from + " into database '" + target
                    + "' failed: " + e.getMessage() + "; " + outcome, e);
        } finally {
            if (into != null) {
                into.close();
            }
        }
        // Committed. The keys were validated in the transaction; those the restored rows do not satisfy stayed.
        List<PostgresServer.ForeignKey> wereValid = referencing.stream().filter(PostgresServer.ForeignKey::validated)
                .toList();
        List<PostgresServer.ForeignKey> notValid;
        try {
            notValid = server.notValid(wereValid);
        } catch (RuntimeException e) {
            // The restore is done: saying it failed would be false. What could not be checked is said instead.
            notValid = List.of();
            if (!wereValid.isEmpty()) {
                warnings.accept("table " + table + " was restored, but whether the foreign keys that reference it are "
                        + "valid could not be checked: " + e.getMessage());
            }
        }
        for (PostgresServer.ForeignKey key : notValid) {
            warnings.accept("foreign key " + key.name() + " on " + key.table() + " references " + table + " again "
                    + "but is NOT VALID: some of its rows reference rows the restored table does not have; HINT: "
                    + "fix or remove those rows, then ALTER TABLE " + key.table() + " VALIDATE CONSTRAINT "
                    + TableName.quote(key.name()));
        }
        return new Result(entry, table, parent, selection.tables().size() - 1, target, replaced, !databaseExists,
                (System.nanoTime() - started) / 1e9);
    }
}
