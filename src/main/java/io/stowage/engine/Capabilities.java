package io.stowage.engine;

import io.stowage.StowageException;
import io.stowage.catalog.BackupType;
import io.stowage.job.Job;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What an engine supports: its backup methods, the backup types of each method, and the restore targets of each.
 * Commands check a request against them before anything runs, and say what is supported when it is not.
 *
 * @param types   method -> backup types ({@code logical -> [full]}, {@code physical -> [full, diff, incr]})
 * @param targets method -> restore targets
 */
public record Capabilities(Map<String, List<BackupType>> types, Map<String, Set<RestoreKind>> targets) {

    public Capabilities {
        types = Map.copyOf(types);
        targets = Map.copyOf(targets);
    }

    public Set<String> methods() {
        return new java.util.TreeSet<>(types.keySet());
    }

    public List<BackupType> types(String method) {
        return types.getOrDefault(method, List.of());
    }

    public Set<RestoreKind> targets(String method) {
        return targets.getOrDefault(method, Set.of());
    }

    /** Refuses a job whose method the engine does not have (exit 2), naming the ones it has. */
    public void requireMethod(String engine, Job job) {
        if (!types.containsKey(job.method())) {
            throw StowageException.usage("job '" + job.name() + "': engine " + engine + " has no method '"
                    + job.method() + "'; it supports " + String.join(", ", methods()));
        }
    }

    /** Refuses a backup type the job's method does not make (exit 2), naming the ones it makes. */
    public void requireType(Job job, BackupType type) {
        List<BackupType> supported = types(job.method());
        if (!supported.contains(type)) {
            throw StowageException.usage("job '" + job.name() + "' (" + job.engine() + " " + job.method()
                    + ") supports " + supported.stream().map(BackupType::id).toList() + " backups, not '" + type + "'");
        }
    }

    /** Refuses a restore target the job's method does not offer (exit 2), naming the ones it offers. */
    public void requireTarget(Job job, RestoreKind kind) {
        Set<RestoreKind> offered = targets(job.method());
        if (!offered.contains(kind)) {
            throw StowageException.usage("job '" + job.name() + "' (" + job.engine() + " " + job.method() + ") cannot"
                    + " restore " + kind.describe() + "; it restores " + (offered.isEmpty() ? "nothing"
                    : new TreeMap<>(offered.stream().collect(Collectors.toMap(RestoreKind::describe, k -> k)))
                            .keySet().stream().collect(Collectors.joining(", "))));
        }
    }
}
