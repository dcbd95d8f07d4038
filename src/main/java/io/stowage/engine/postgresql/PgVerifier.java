package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.EngineContext;
import io.stowage.engine.ScratchRestore;
import io.stowage.engine.ScratchRestore.Outcome;
import io.stowage.job.Job;
import io.stowage.job.Probe;
import io.stowage.repository.Repository;
import io.stowage.restore.StoredObjects;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * PostgreSQL's half of a verification: the backup restored into a scratch target (a logical backup into the scratch
 * database {@code stowage_verify_<job>}, a physical one into a throwaway server with all archived WAL), and the
 * probes run there:
 * <ul>
 *   <li>built-in: it connects; every table can be read in full; each table has the rows the dump held when the
 *       backup was taken, and the database has the indexes and foreign keys the dump created (both recorded in the
 *       manifest; skipped for backups that did not record them); every index is valid;</li>
 *   <li>the operator's, from the job's {@code probes} parameter ({@link Probe}), each in a read-only transaction
 *       with a statement timeout.</li>
 * </ul>
 * For a physical backup, the WAL it needs to become consistent is first checked in every repository holding it.
 */
final class PgVerifier {
    /** How long one operator probe may run. */
    static final Duration PROBE_TIMEOUT = Duration.ofMinutes(5);
    private static final String USER_SCHEMAS = " n.nspname NOT IN ('pg_catalog', 'information_schema')"
            + " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

    private final EngineContext services;
    private final Consumer<String> warnings;

    PgVerifier(EngineContext services) {
        this.services = services;
        this.warnings = services.warnings();
    }

    static String scratchDatabase(Job job) {
        return "stowage_verify_" + job.name().replace('-', '_');
    }

    ScratchRestore restore(Job job, CatalogEntry entry) throws Exception {
        Manifest manifest = entry.manifest();
        if (PgDetails.wal(manifest) != null) {
            BackupWal wal = new BackupWal();
            requireWalEverywhere(entry, wal);
            // Every holding repository's WAL, against its checksum files: the restore may read another repository's
            // than the first, and a verification proves every copy.
            for (Repository repository : services.repositories()) {
                if (entry.repositories().contains(repository.name())) {
                    checkBackupWal(repository, manifest, wal);
                }
            }
        }
        if ("physical".equals(job.method())) {
            ScratchServer server = ScratchServer.start(services, job, manifest.id(),
                    new PhysicalRestore.Target(null, true), warnings);
            return new ScratchRestore() {
                @Override
                public Probes probe(Manifest m, List<Probe> probes) throws Exception {
                    return probePhysical(job, server, probes);
                }

                @Override
                public void close() {
                    server.close();
                }
            };
        }
        String scratch = scratchDatabase(job);
        PgConnection connection = PgConnection.of(job);
        PostgresServer server = new PostgresServer(connection);
        server.dropDatabase(scratch); // left by a verification that was killed
        try {
            new LogicalRestore(services, warnings).restore(job, manifest.id(), scratch, true);
        } catch (Exception | Error e) {
            server.dropDatabase(scratch);
            throw e;
        }
        return new ScratchRestore() {
            @Override
            public Probes probe(Manifest m, List<Probe> probes) throws Exception {
                List<Outcome> outcomes = new ArrayList<>();
                long[] read = PgVerifier.this.probe(connection.withDatabase(scratch), scratch, PgDetails.contents(m), probes,
                        outcomes);
                return probes((int) read[0], read[1], outcomes);
            }

            @Override
            public void close() {
                server.dropDatabase(scratch);
            }
        };
    }

    private static ScratchRestore.Probes probes(int tables, long rows, List<Outcome> outcomes) {
        boolean rowCounts = outcomes.stream().anyMatch(p -> p.name().equals("row-counts")
                && p.result().equals("passed"));
        return new ScratchRestore.Probes(tables, rows, outcomes, tables + " tables, " + rows + " rows read"
                + (rowCounts ? ", row counts as recorded" : "") + "; indexes valid");
    }

    /**
     * Every WAL segment from the backup's start to its stop segment is in every repository holding the backup: a copy
     * without them cannot be restored, so the backup is not proven while any of them lacks one.
     */
    private void requireWalEverywhere(CatalogEntry entry, BackupWal wal) {
        io.stowage.engine.LogArchive.Coverage coverage = wal.coverage(entry, services.repositories(), warnings);
        if (!coverage.missing().isEmpty()) {
            List<String> reasons = new ArrayList<>();
            coverage.missing().forEach((repository, segments) -> reasons.add("WAL segment(s) "
                    + BackupWal.describeSegments(segments) + " are missing from repository '" + repository + "'"));
            throw new StowageException("backup " + entry.id() + " of job '" + entry.job() + "' is not restorable from "
                    + "every repository holding it: " + String.join("; ", reasons) + "; HINT: the service ships WAL "
                    + "from the job's spool to the repositories: start it ('stowage run') and verify again");
        }
    }

    /** Every WAL segment from the backup's start to its stop segment in {@code repository} hashes right. */
    private static void checkBackupWal(Repository repository, Manifest manifest, BackupWal wal) throws Exception {
        String prefix = WalObject.prefix(manifest.job());
        List<String> keys = wal.archive(repository, manifest.job());
        java.util.Set<String> present = new java.util.HashSet<>(keys);
        Map<String, WalObject> segments = new java.util.HashMap<>();
        for (String key : keys) {
            WalObject.ofKey(key).filter(o -> o.isSegment() && !o.checksumFile())
                    .ifPresent(o -> segments.put(o.walName(), o));
        }
        for (String segment : BackupWal.segments(manifest)) {
            WalObject object = segments.get(segment);
            if (object == null) {
                throw new StowageException("WAL segment " + segment + ", which backup " + manifest.id() + " needs, is "
                        + "missing from repository '" + repository.name() + "'");
            }
            String checksumKey = prefix + object.checksumFileName();
            if (present.contains(checksumKey)) {
                String key = prefix + object.file();
                StoredObjects.requireAsChecksummed(StoredObjects.hash(repository.open(key),
                        OutputStream.nullOutputStream()).sha256(), WalObject.readChecksum(repository, checksumKey), key,
                        repository);
            }
        }
    }

    /**
     * Probes a scratch server restored from a physical backup: the whole cluster came back, so every database is
     * probed (connect, read every table, indexes valid); the operator's probes run in the job's database. Outcomes
     * of the other databases are named {@code <db>:<probe>}.
     */
    private ScratchRestore.Probes probePhysical(Job job, ScratchServer server, List<Probe> probes) throws Exception {
        String database = PgConnection.of(job).database();
        List<Outcome> outcomes = new ArrayList<>();
        long[] read = probe(server.connection(database), database, null, probes, outcomes);
        int tables = (int) read[0];
        long rows = read[1];
        for (String other : databases(server.connection(database))) {
            if (other.equals(database)) {
                continue;
            }
            PgConnection connection;
            try {
                connection = server.connection(other);
            } catch (StowageException unusualName) {
                warnings.accept("database '" + other + "' of the restored cluster was not probed: "
                        + unusualName.getMessage());
                continue;
            }
            List<Outcome> theirs = new ArrayList<>();
            long[] counted = probe(connection, other, null, List.of(), theirs);
            tables += (int) counted[0];
            rows += counted[1];
            for (Outcome outcome : theirs) {
                if (!"skipped".equals(outcome.result())) {
                    outcomes.add(new Outcome(other + ":" + outcome.name(), outcome.kind(), outcome.result(),
                            outcome.value(), outcome.expected()));
                }
            }
        }
        return probes(tables, rows, outcomes);
    }

    /** The databases of a restored cluster that accept connections (not the templates). */
    private static List<String> databases(PgConnection server) throws Exception {
        List<String> names = new ArrayList<>();
        try (Connection c = server.open(server.database()); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate"
                     + " ORDER BY 1")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    /**
     * The probes, built-in then the operator's; adds each outcome and returns the number of tables and of rows read.
     * Every probe runs; if any failed, the verification fails with the first failure's line (the others are
     * warnings).
     */
    private long[] probe(PgConnection target, String database, PgDetails.Contents recorded, List<Probe> probes,
                         List<Outcome> outcomes) throws Exception {
        List<String> failures = new ArrayList<>();
        long rows = 0;
        Map<String, Long> counted = new LinkedHashMap<>();
        try (Connection c = target.open(database); Statement s = c.createStatement();
             // A stop (SIGTERM, SIGINT) closes the connection: a long probe query ends at once.
             io.stowage.Interruption.Registration stop = io.stowage.Interruption.onStop(() -> c.abort(Runnable::run))) {
            outcomes.add(Outcome.passed("connect", null, null));
            // Rows hidden by row-level security would look like lost rows: read them all, or fail.
            s.execute("SET row_security = off");
            Map<String, String> tables = new LinkedHashMap<>();
            try (ResultSet rs = s.executeQuery("SELECT n.nspname || '.' || c.relname, format('%I.%I', n.nspname,"
                    + " c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
                    + " AND" + USER_SCHEMAS + " ORDER BY 1")) {
                while (rs.next()) {
                    tables.put(rs.getString(1), rs.getString(2));
                }
            }
            for (Map.Entry<String, String> table : tables.entrySet()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM ONLY " + table.getValue())) {
                    rs.next();
                    counted.put(table.getKey(), rs.getLong(1));
                    rows += rs.getLong(1);
                }
            }
            outcomes.add(Outcome.passed("read", tables.size() + " tables, " + rows + " rows", null));
            if (recorded == null || recorded.tables() == null) {
                outcomes.add(new Outcome("row-counts", "built-in", "skipped", null,
                        "not recorded by this backup"));
            } else {
                String mismatch = null;
                for (Map.Entry<String, Long> table : recorded.tables().entrySet()) {
                    Long actual = counted.get(table.getKey());
                    if (actual == null) {
                        mismatch = "table " + table.getKey() + " is missing after the restore (the backup recorded "
                                + table.getValue() + " rows)";
                    } else if (actual.longValue() != table.getValue()) {
                        mismatch = "table " + table.getKey() + " has " + actual + " rows after the restore, the backup "
                                + "recorded " + table.getValue();
                    }
                    if (mismatch != null) {
                        break;
                    }
                }
                if (mismatch == null) {
                    outcomes.add(Outcome.passed("row-counts", recorded.tables().size() + " tables",
                            "as recorded"));
                } else {
                    failures.add("probe 'row-counts' failed: " + mismatch);
                }
            }
            long invalid = single(s, "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND" + USER_SCHEMAS);
            if (invalid > 0) {
                failures.add("probe 'indexes-valid' failed: " + invalid + " invalid index(es) after the restore");
            } else {
                outcomes.add(Outcome.passed("indexes-valid", null, null));
            }
            if (recorded == null) {
                outcomes.add(new Outcome("indexes", "built-in", "skipped", null, "not recorded by this backup"));
                outcomes.add(new Outcome("foreign-keys", "built-in", "skipped", null,
                        "not recorded by this backup"));
            } else {
                // Indexes the dump creates with CREATE INDEX: not those of constraints (primary keys, unique and
                // exclusion constraints), nor those of extensions' tables, which the dump does not create.
                long indexes = single(s, "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                        + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE" + USER_SCHEMAS
                        + " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
                        + " AND k.contype IN ('p', 'u', 'x'))"
                        + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
                        + " AND d.objid = i.indrelid AND d.deptype = 'e')");
                compare("indexes", indexes, recorded.indexes(), outcomes, failures);
                // Foreign keys the dump declares: not the copies PostgreSQL makes on partitions.
                long foreignKeys = single(s, "SELECT count(*) FROM pg_constraint k JOIN pg_namespace n"
                        + " ON n.oid = k.connamespace WHERE k.contype = 'f' AND k.conparentid = 0 AND" + USER_SCHEMAS
                        + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
                        + " AND d.objid = k.conrelid AND d.deptype = 'e')");
                compare("foreign-keys", foreignKeys, recorded.foreignKeys(), outcomes, failures);
            }
            if (!probes.isEmpty()) {
                c.setAutoCommit(false);
                for (Probe probe : probes) {
                    operatorProbe(c, probe, outcomes, failures);
                }
            }
        }
        if (!failures.isEmpty()) {
            for (String other : failures.subList(1, failures.size())) {
                warnings.accept(other);
            }
            throw new StowageException(failures.get(0) + (failures.size() > 1 ? " (and " + (failures.size() - 1)
                    + " more failed probe(s), above)" : ""));
        }
        return new long[] {counted.size(), rows};
    }

    private static void compare(String name, long actual, long recorded, List<Outcome> outcomes,
                                List<String> failures) {
        if (actual == recorded) {
            outcomes.add(Outcome.passed(name, Long.toString(actual), "= " + recorded));
        } else {
            failures.add("probe '" + name + "' failed: " + actual + " " + name.replace('-', ' ') + " after the "
                    + "restore, the backup created " + recorded);
        }
    }

    /** One operator probe, read-only, with a statement timeout; rolled back whatever it did. */
    private static void operatorProbe(Connection c, Probe probe, List<Outcome> outcomes, List<String> failures) {
        boolean hasRow;
        String value;
        try (Statement s = c.createStatement()) {
            s.execute("SET TRANSACTION READ ONLY");
            s.execute("SET LOCAL statement_timeout = '" + PROBE_TIMEOUT.toSeconds() + "s'");
            try (ResultSet rs = s.executeQuery(probe.sql())) {
                hasRow = rs.next();
                value = hasRow ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            failures.add("probe '" + probe.name() + "' failed: " + io.stowage.Secrets.mask(String.valueOf(
                    e.getMessage()).lines().findFirst().orElse("")) + " (expected " + probe.condition() + ")");
            rollback(c);
            return;
        }
        rollback(c);
        String shown = !hasRow ? "no row" : value == null ? "NULL" : value;
        if (probe.condition().test(hasRow, value)) {
            outcomes.add(new Outcome(probe.name(), "operator", "passed", hasRow ? value : null,
                    probe.condition().toString()));
        } else {
            failures.add("probe '" + probe.name() + "' failed: " + (hasRow ? "value " : "") + shown + ", expected "
                    + probe.condition());
        }
    }

    private static void rollback(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            // the connection is closed right after the probes; nothing was written (read only)
        }
    }

    private static long single(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
