package io.stowage.verify;

import io.stowage.restore.StoredObjects;

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
import io.stowage.job.Job;
import io.stowage.job.Probe;
import io.stowage.lock.ExclusiveLock;
import io.stowage.repository.Repository;
import io.stowage.engine.Engine;
import io.stowage.engine.EngineContext;
import io.stowage.engine.ScratchRestore;
import io.stowage.services.StowageServices;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * Proves a backup by restoring it, for every engine: the engine restores it into a scratch target (a scratch
 * database, a throwaway server), hashing every object it reads against the manifest first; that restore's duration is
 * the measured RTO, compared with the job's objective ({@code rtoSeconds}); the copies in the other repositories
 * holding the backup are hashed too; then the engine's built-in probes and the operator's ({@code probes}) run on
 * the scratch target, which is always removed afterwards.
 *
 * <p>A passed verification is recorded beside the manifest as {@code verified-<time>.json}, which {@code list} shows.
 * One verification of a job runs at a time, across processes. {@link #run} is the one place a verification is
 * audited and measured, for the command and the service.
 */
public final class Verification {

    private final StowageServices services;
    private final Consumer<String> warnings;
    private String backupId;

    private Duration lockWait = Duration.ZERO;

    public Verification(StowageServices services, Consumer<String> warnings) {
        this.services = services;
        this.warnings = warnings;
    }

    public record Result(CatalogEntry backup, Instant at, Duration restoreTime, long rtoSeconds, int tables, long rows,
                         List<ScratchRestore.Outcome> probes, String summary) {
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
            services.metrics().restoreObjective(job.name(), job.rtoSeconds());
            if (result != null) {
                services.metrics().verified(job.name(), result.restoreTime());
            }
        }
        return new Outcome(job, id, result, failure, took);
    }

    public Result verify(Job job, String backup) throws Exception {
        // One verification at a time per job, across processes: a second one would remove the first's scratch target
        // under it, and fail a sound backup. Keyed by the scratch name, which two jobs can share (a-b and a_b).
        Path root = services.repositories().home().root();
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                "rwx------")));
        Path lockFile = root.resolve(".stowage_verify_" + job.name().replace('-', '_') + ".lock");
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

    private Result verifyAlone(Job job, String backup) throws Exception {
        Engine engine = services.engines().get(job.engine());
        List<Probe> probes = job.probes();
        long rtoSeconds = job.rtoSeconds();
        CatalogEntry entry = services.catalog().find(job.name(), backup, warnings);
        EngineContext.requireMadeBy(job, entry);
        Manifest manifest = entry.manifest();
        backupId = manifest.id();
        EngineContext context = services.context(warnings);
        long started = System.nanoTime();
        // The engine's restore hashes what it reads before it uses it (through StoredObjects, which records it in the
        // context), and may read another copy than the first when one is unsound; every copy it did not prove is
        // hashed here after it, so that none is recorded as verified unread, and none is read twice.
        try (ScratchRestore scratch = engine.restoreForVerification(job, entry, context)) {
            Duration restoreTime = Duration.ofNanos(System.nanoTime() - started);
            checkEveryCopy(entry, context);
            ScratchRestore.Probes probed = scratch.probe(manifest, probes);
            Result result = new Result(entry, Instant.now(), restoreTime, rtoSeconds, probed.tables(), probed.rows(),
                    probed.outcomes(), probed.summary());
            record(result);
            return result;
        }
    }

    /**
     * Every object of the backup, in every repository holding it, hashes as the manifest says: a verification proves
     * every copy it records itself beside, not only the one the restore read (which the restore proved already).
     */
    private void checkEveryCopy(CatalogEntry entry, EngineContext context) throws Exception {
        Manifest manifest = entry.manifest();
        for (Repository repository : services.repositories().all()) {
            if (entry.repositories().contains(repository.name())) {
                for (Manifest.StoredObject object : manifest.objects()) {
                    String key = Catalog.objectKey(manifest.job(), manifest.id(), object.name());
                    if (context.isProved(repository, key)) {
                        continue;
                    }
                    StoredObjects.requireAsRecorded(StoredObjects.hash(repository.open(key),
                            OutputStream.nullOutputStream()), object, key, repository);
                }
            }
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
        for (ScratchRestore.Outcome outcome : result.probes()) {
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
