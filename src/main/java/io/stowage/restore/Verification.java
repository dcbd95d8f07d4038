package io.stowage.restore;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.Failures;
import io.stowage.StowageException;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.engine.postgresql.BackupWal;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.WalObject;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.job.Job;
import io.stowage.job.Probe;
import io.stowage.lock.ExclusiveLock;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageServices;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Proves a logical backup by restoring it: every object's SHA-256 in every repository that holds it (the copy the
 * restore reads is hashed by the restore itself, before it is used), then a real restore into a scratch database
 * ({@code stowage_verify_<job>}) whose duration is the measured RTO, compared with the job's objective
 * ({@code rtoSeconds}), then the probes:
 * <ul>
 *   <li>built-in: it connects; every table can be read in full; each table has the rows the dump held when the
 *       backup was taken, and the database has the indexes and foreign keys the dump created (both recorded in the
 *       manifest; skipped for backups that did not record them); every index is valid;</li>
 *   <li>the operator's, from the job's {@code probes} parameter ({@link Probe}), each in a read-only transaction
 *       with a statement timeout.</li>
 * </ul>
 * A passed verification is recorded beside the manifest as {@code verified-<time>.json}, which {@code list} shows.
 * The scratch database is always dropped, and one left by a killed verification is dropped before the next one
 * starts. {@link #run} is the one place a verification is audited and measured, for the command and the service.
 */
public final class Verification {
    /** How long one operator probe may run. */
    public static final Duration PROBE_TIMEOUT = Duration.ofMinutes(5);
    private static final String USER_SCHEMAS = " n.nspname NOT IN ('pg_catalog', 'information_schema')"
            + " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

    private final StowageServices services;
    private final Consumer<String> warnings;
    private String backupId;

    private Duration lockWait = Duration.ZERO;

    public Verification(StowageServices services, Consumer<String> warnings) {
        this.services = services;
        this.warnings = warnings;
    }

    /** One probe's outcome: {@code result} is passed or skipped (a failed probe fails the verification). */
    public record ProbeOutcome(String name, String kind, String result, String value, String expected) {
        static ProbeOutcome passed(String name, String value, String expected) {
            return new ProbeOutcome(name, "built-in", "passed", value, expected);
        }
    }

    public record Result(CatalogEntry backup, Instant at, Duration restoreTime, long rtoSeconds, int tables, long rows,
                         List<ProbeOutcome> probes) {
        /** Whether the restore finished within the job's recovery time objective. */
        public boolean rtoMet() {
            return restoreTime.compareTo(Duration.ofSeconds(rtoSeconds)) <= 0;
        }

        public long operatorProbes() {
            return probes.stream().filter(p -> p.kind().equals("operator")).count();
        }

        public boolean rowCountsChecked() {
            return probes.stream().anyMatch(p -> p.name().equals("row-counts") && p.result().equals("passed"));
        }
    }

    /** A verification as the command and the service see it: the result, or why it failed. */
    public record Outcome(Job job, String backupId, Result result, Exception failure, Duration took) {
        public boolean passed() {
            return failure == null;
        }
    }

    /**
     * Verifies and does the bookkeeping, in one place for the command and the service: an audit line, and in the
     * service the metrics (last success, restore time, objective). Never throws for a failed verification: the
     * outcome carries the failure.
     */
    public Outcome run(Job job, String backup) {
        long started = System.nanoTime();
        Result result = null;
        Exception failure = null;
        try {
            result = verify(job, backup);
        } catch (Exception e) {
            failure = (Exception) io.stowage.Interruption.explain(e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        String id = result != null ? result.backup().id() : backupId != null ? backupId : backup;
        services.audit().record(new AuditLog.Entry("verify", job.name(), id, failure == null ? "success" : "failure",
                took, failure == null ? null : Failures.describe(failure)));
        if (services.metrics() != null) {
            if ("logical".equals(job.method()) || "physical".equals(job.method())) {
                services.metrics().restoreObjective(job.name(), job.rtoSeconds());
            }
            if (result != null) {
                services.metrics().verified(job.name(), result.restoreTime());
            }
        }
        return new Outcome(job, id, result, failure, took);
    }

    public Result verify(Job job, String backup) throws Exception {
        if (!"logical".equals(job.method()) && !"physical".equals(job.method())) {
            throw StowageException.usage("verify restores logical and physical backups; job '" + job.name()
                    + "' is " + job.method());
        }
        // One verification at a time per scratch database, across processes: a second one would remove the first's
        // scratch database or server under it, and fail a sound backup. Keyed by the scratch database's name, which
        // two jobs can share (a-b and a_b).
        Path root = services.repositories().home().root();
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                "rwx------")));
        Path lockFile = root.resolve("." + scratchDatabase(job) + ".lock");
        java.util.Optional<ExclusiveLock> held = lockWait.isZero() ? ExclusiveLock.tryAcquire(lockFile)
                : ExclusiveLock.acquire(lockFile, lockWait);
        try (ExclusiveLock lock = held.orElseThrow(() -> new StowageException("another verification of job '"
                + job.name() + "' is running" + (lockWait.isZero() ? "" : ", for over " + lockWait.toSeconds() + " s")
                + "; HINT: wait for it to finish"))) {
            return verifyAlone(job, backup);
        }
    }

    /**
     * Waits up to {@code wait} for a verification of the same job that runs beside this one (the service's
     * scheduled verification waits for one an operator started; the command refuses at once).
     */
    public Verification waitingForOthers(Duration wait) {
        this.lockWait = wait;
        return this;
    }

    private static String scratchDatabase(Job job) {
        return "stowage_verify_" + job.name().replace('-', '_');
    }

    private Result verifyAlone(Job job, String backup) throws Exception {
        List<Probe> probes = job.probes();
        long rtoSeconds = job.rtoSeconds();
        CatalogEntry entry = services.catalog().find(job.name(), backup, warnings);
        Manifest manifest = entry.manifest();
        backupId = manifest.id();
        // One listing of each repository's WAL archive for both checks.
        BackupWal wal = new BackupWal();
        if (manifest.wal() != null) {
            requireWalEverywhere(entry, wal);
        }
        checkOtherCopies(entry, wal);
        if ("physical".equals(job.method())) {
            return verifyPhysical(job, entry, probes, rtoSeconds);
        }
        String scratch = scratchDatabase(job);
        PgConnection connection = PgConnection.of(job);
        PostgresServer server = new PostgresServer(connection);
        server.dropDatabase(scratch); // left by a verification that was killed
        long started = System.nanoTime();
        try {
            new LogicalRestore(services, warnings).restore(job, manifest.id(), scratch, true);
            Duration restoreTime = Duration.ofNanos(System.nanoTime() - started);
            PgConnection target = connection.withDatabase(scratch);
            List<ProbeOutcome> outcomes = new ArrayList<>();
            long[] read = probe(target, scratch, manifest.contents(), probes, outcomes);
            Result result = new Result(entry, Instant.now(), restoreTime, rtoSeconds, (int) read[0], read[1],
                    List.copyOf(outcomes));
            record(result);
            return result;
        } finally {
            server.dropDatabase(scratch);
        }
    }

    /**
     * The restore hashes every object of the first repository holding the backup before it uses it; here, the copies
     * in the other repositories, so that each object is read once. For a physical backup, also the WAL it needs to
     * become consistent (its start to its stop segment) in those repositories, against their checksum files.
     */
    private void checkOtherCopies(CatalogEntry entry, BackupWal wal) throws Exception {
        Manifest manifest = entry.manifest();
        boolean first = true;
        for (Repository repository : services.repositories().all()) {
            if (entry.repositories().contains(repository.name())) {
                if (first) {
                    first = false;
                    continue;
                }
                for (Manifest.StoredObject object : manifest.objects()) {
                    checkObject(repository, Catalog.objectKey(manifest.job(), manifest.id(), object.name()), object);
                }
                if (manifest.wal() != null) {
                    checkBackupWal(repository, manifest, wal);
                }
            }
        }
    }

    /**
     * Every WAL segment from the backup's start to its stop segment is in every repository holding the backup: a copy
     * without them cannot be restored, so the backup is not proven while any of them lacks one.
     */
    private void requireWalEverywhere(CatalogEntry entry, BackupWal wal) {
        BackupWal.Coverage coverage = wal.coverage(entry, services.repositories().all(), warnings);
        if (!coverage.missing().isEmpty()) {
            List<String> reasons = new ArrayList<>();
            coverage.missing().forEach((repository, segments) -> reasons.add("WAL segment(s) "
                    + BackupWal.describe(segments) + " are missing from repository '" + repository + "'"));
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
     * Proves a physical backup (its copies in the other repositories are checked already): a scratch server restored
     * from it with all archived WAL (to latest), whose restore and recovery time is the RTO; then the probes on the
     * job's database there. The scratch server is always stopped and its directory removed.
     */
    private Result verifyPhysical(Job job, CatalogEntry entry, List<Probe> probes, long rtoSeconds) throws Exception {
        Manifest manifest = entry.manifest();
        long started = System.nanoTime();
        try (ScratchServer server = ScratchServer.start(services, job, manifest.id(),
                new PhysicalRestore.Target(null, true), warnings)) {
            Duration restoreTime = Duration.ofNanos(System.nanoTime() - started);
            // The whole cluster came back: every database is probed (connect, read every table, indexes valid); the
            // operator's probes run in the job's database. Outcomes of the other databases are named <db>:<probe>.
            String database = PgConnection.of(job).database();
            List<ProbeOutcome> outcomes = new ArrayList<>();
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
                List<ProbeOutcome> theirs = new ArrayList<>();
                long[] counted = probe(connection, other, null, List.of(), theirs);
                tables += (int) counted[0];
                rows += counted[1];
                for (ProbeOutcome outcome : theirs) {
                    if (!"skipped".equals(outcome.result())) {
                        outcomes.add(new ProbeOutcome(other + ":" + outcome.name(), outcome.kind(), outcome.result(),
                                outcome.value(), outcome.expected()));
                    }
                }
            }
            Result result = new Result(entry, Instant.now(), restoreTime, rtoSeconds, tables, rows,
                    List.copyOf(outcomes));
            record(result);
            return result;
        }
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

    private static void checkObject(Repository repository, String key, Manifest.StoredObject object) throws Exception {
        StoredObjects.requireAsRecorded(StoredObjects.hash(repository.open(key), OutputStream.nullOutputStream()),
                object, key, repository);
    }

    /**
     * The probes, built-in then the operator's; adds each outcome and returns the number of tables and of rows read.
     * Every probe runs; if any failed, the verification fails with the first failure's line (the others are
     * warnings).
     */
    private long[] probe(PgConnection target, String database, Manifest.Contents recorded, List<Probe> probes,
                         List<ProbeOutcome> outcomes) throws Exception {
        List<String> failures = new ArrayList<>();
        long rows = 0;
        Map<String, Long> counted = new LinkedHashMap<>();
        try (Connection c = target.open(database); Statement s = c.createStatement();
             // A stop (SIGTERM, SIGINT) closes the connection: a long probe query ends at once.
             io.stowage.Interruption.Registration stop = io.stowage.Interruption.onStop(() -> c.abort(Runnable::run))) {
            outcomes.add(ProbeOutcome.passed("connect", null, null));
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
            outcomes.add(ProbeOutcome.passed("read", tables.size() + " tables, " + rows + " rows", null));
            if (recorded == null || recorded.tables() == null) {
                outcomes.add(new ProbeOutcome("row-counts", "built-in", "skipped", null,
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
                    outcomes.add(ProbeOutcome.passed("row-counts", recorded.tables().size() + " tables",
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
                outcomes.add(ProbeOutcome.passed("indexes-valid", null, null));
            }
            if (recorded == null) {
                outcomes.add(new ProbeOutcome("indexes", "built-in", "skipped", null, "not recorded by this backup"));
                outcomes.add(new ProbeOutcome("foreign-keys", "built-in", "skipped", null,
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

    private static void compare(String name, long actual, long recorded, List<ProbeOutcome> outcomes,
                                List<String> failures) {
        if (actual == recorded) {
            outcomes.add(ProbeOutcome.passed(name, Long.toString(actual), "= " + recorded));
        } else {
            failures.add("probe '" + name + "' failed: " + actual + " " + name.replace('-', ' ') + " after the "
                    + "restore, the backup created " + recorded);
        }
    }

    /** One operator probe, read-only, with a statement timeout; rolled back whatever it did. */
    private static void operatorProbe(Connection c, Probe probe, List<ProbeOutcome> outcomes, List<String> failures) {
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
            outcomes.add(new ProbeOutcome(probe.name(), "operator", "passed", hasRow ? value : null,
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

    /** {@code verified-<time>.json} beside the manifest, in every repository holding the backup. */
    private void record(Result result) throws Exception {
        CatalogEntry entry = result.backup();
        String stamp = BackupId.of(result.at(), entry.manifest().type()).substring(0, 16);
        ObjectNode json = ManifestCodec.JSON.createObjectNode();
        json.put("verified", result.at().toString());
        json.put("backup", entry.id());
        json.put("restoreSeconds", result.restoreTime().toMillis() / 1000.0);
        json.put("rtoObjectiveSeconds", result.rtoSeconds());
        json.put("rtoMet", result.rtoMet());
        json.put("tables", result.tables());
        json.put("rows", result.rows());
        ArrayNode probes = json.putArray("probes");
        for (ProbeOutcome outcome : result.probes()) {
            ObjectNode probe = probes.addObject();
            probe.put("name", outcome.name());
            probe.put("kind", outcome.kind());
            probe.put("result", outcome.result());
            if (outcome.value() != null) {
                probe.put("value", outcome.value());
            }
            if (outcome.expected() != null) {
                probe.put("expected", outcome.expected());
            }
        }
        byte[] bytes = ManifestCodec.JSON.writeValueAsBytes(json);
        for (Repository repository : services.repositories().all()) {
            if (entry.repositories().contains(repository.name())) {
                repository.write(Catalog.objectKey(entry.job(), entry.id(), "verified-" + stamp + ".json"),
                        out -> out.write(bytes));
            }
        }
    }
}
