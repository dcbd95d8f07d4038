package io.stowage.route;

import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.job.Job;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of one backup while its route runs, kept as the exchange property {@value #PROPERTY}: what the steps
 * learned (tool and server versions, stored objects, which repositories hold a complete copy) and what the catalog
 * step turns into the manifest.
 */
public final class BackupRun {
    public static final String PROPERTY = "StowageBackup";
    /** Header that asks for a backup type on the trigger: full, diff or incr. */
    public static final String TYPE_HEADER = "StowageBackupType";

    final Job job;
    final BackupType type;
    final String id;
    final Instant started;
    /** Where the bytes come from: the engine's source, set by the source step. */
    io.stowage.engine.BackupSource source;
    List<String> recipients = List.of();
    /** Whether the objects are encrypted with a passphrase (age scrypt) rather than to recipients. */
    boolean passphrase;
    Manifest.Compression compression = new Manifest.Compression("none", 0);
    final List<Manifest.StoredObject> objects = new ArrayList<>();
    long sizeBytes;
    long storedBytes;
    final List<String> completeIn = new ArrayList<>();
    final Map<String, String> copyFailures = new LinkedHashMap<>();
    /** The other repositories whose interrupted backups of the job were looked for before the first copy there. */
    final java.util.Set<String> cleanedUpIn = new java.util.HashSet<>();
    /** What the operator should know about this backup although it succeeds (a command prints them). */
    final List<String> warnings = new ArrayList<>();
    /** The job's lock, released when the exchange completes or a retry begins. */
    JobLock lock;
    /** The object the last store step wrote, as a repository key: what a copy step copies. */
    String lastObjectKey;
    /** The repository the last store step wrote it to: where a copy step reads it. */
    String lastStoredIn;
    /** Every object the store steps wrote, as a repository key, with the repository it was written to. */
    final Map<String, String> storedKeys = new LinkedHashMap<>();
    /** For each repository, the keys a copy step copied there. */
    final Map<String, java.util.Set<String>> copiedKeys = new LinkedHashMap<>();

    BackupRun(Job job, BackupType type, String id, Instant started) {
        this.job = job;
        this.type = type;
        this.id = id;
        this.started = started;
    }

    public String id() {
        return id;
    }

    public Job job() {
        return job;
    }

    public List<String> completeIn() {
        return List.copyOf(completeIn);
    }

    public List<String> warnings() {
        return List.copyOf(warnings);
    }

    public Map<String, String> copyFailures() {
        return Map.copyOf(copyFailures);
    }

    /** Whether {@code repository} holds every object the store steps wrote: stored there or copied there. */
    boolean holdsAll(String repository) {
        java.util.Set<String> copied = copiedKeys.getOrDefault(repository, java.util.Set.of());
        return storedKeys.entrySet().stream().allMatch(e -> e.getValue().equals(repository)
                || copied.contains(e.getKey()));
    }

    void copied(String repository, String key) {
        copiedKeys.computeIfAbsent(repository, r -> new java.util.LinkedHashSet<>()).add(key);
    }

    String prefix() {
        return job.name() + "/" + id + "/";
    }
}
