package io.stowage.engine;

import io.stowage.job.Job;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One database engine: everything Stowage knows about PostgreSQL, Redis, MariaDB, ... lives behind this interface, in
 * the engine's own package {@code io.stowage.engine.<name>}: its SQL or commands, its tools, its file formats, its
 * restore and probe logic. Code outside an engine package never tests an engine's name; it asks the engine.
 *
 * <p>What stays common, outside the engines: choosing a backup and a copy, proving stored objects, the backup
 * pipeline (compress, encrypt, checksum, store, copy, catalog), auditing, timing the RTO, recording verification,
 * alerting, metrics, shipping a log spool and its RPO.
 *
 * <p>Adding an engine: a package with a class implementing this interface, route templates
 * {@code routes/<engine>-*.camel.yaml} that use its {@link #sourceSteps() source steps}, a page
 * {@code docs/<engine>.md}, and one line in {@code io.stowage.runtime.EngineCatalog}. See docs/architecture.md.
 */
public interface Engine {

    /** The name jobs give in their {@code engine} parameter and manifests record: {@code postgresql}, {@code redis}. */
    String name();

    /** What the engine can do: methods, backup types per method, restore targets per method. */
    Capabilities capabilities();

    /**
     * Checks a job's engine-specific parameters when the routes are loaded (without reaching the server): a malformed
     * probe, an unknown option. Throws a usage {@link io.stowage.StowageException} naming the job and the fix.
     */
    default void validate(Job job) {
    }

    /**
     * {@code stowage check}: reaches the job's server and reports what it found, one line per finding, through
     * {@code report}. Never throws for a finding: a failure is a {@link CheckReport#fail} line.
     */
    void check(Job job, EngineContext context, CheckReport report);

    /**
     * The {@code stowage:} route steps that start a backup of this engine, by step name, with the method each serves:
     * {@code pg-dump -> logical}, {@code redis-rdb -> rdb}. The shared source step calls {@link #openSource} for them.
     */
    Map<String, String> sourceSteps();

    /**
     * Starts a backup's source: reaches the server (a clear error for a wrong password or an unreachable server,
     * before any tool runs), records what the manifest needs, and returns the stream of the backup's bytes. The tool
     * itself runs when the store step pulls the stream.
     */
    BackupSource openSource(Job job, String method, BackupRequest request, EngineContext context);

    /** The engine's log archive (PostgreSQL's WAL, MariaDB's binlogs), if it has one. */
    default Optional<LogArchive> logArchive() {
        return Optional.empty();
    }

    /** Whether the job keeps a log archive beside its backups (PostgreSQL's physical jobs archive WAL). */
    default boolean archivesLogs(Job job) {
        return false;
    }

    /** Restores a backup of {@code job} as {@code request} asks; called once the request fits the capabilities. */
    RestoreResult restore(Job job, RestoreRequest request, EngineContext context) throws Exception;

    /**
     * The verifier's first half: restores {@code backup} into a scratch target (a scratch database, a throwaway server
     * on a free port). The caller times it (the measured RTO), then calls {@link ScratchRestore#probe} and closes it,
     * which removes the scratch target.
     */
    ScratchRestore restoreForVerification(Job job, io.stowage.catalog.CatalogEntry backup, EngineContext context)
            throws Exception;

    /**
     * What makes the {@code engineDetails} of a manifest this engine wrote unusable (a manifest with such details is
     * damaged, and never listed or restored), or null when they are sound.
     */
    default String detailsProblem(io.stowage.catalog.Manifest manifest) {
        return null;
    }

    /**
     * The engine's fields of a backup in {@code list --json} (PostgreSQL's {@code walStart}, {@code walStop}),
     * added after the common ones. None by default.
     */
    default Map<String, Object> listFields(io.stowage.catalog.Manifest manifest) {
        return Map.of();
    }
}
