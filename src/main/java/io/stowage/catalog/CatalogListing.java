package io.stowage.catalog;

import io.stowage.StowageException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What one reading of the repositories found: the complete backups (oldest first) and the manifests that are there
 * but could not be used, and the backup directories that hold objects but no manifest (a backup being written, or
 * what an interrupted backup or expiry left), and the repositories that could not be listed (nothing of them is in
 * the rest). Finding a backup goes through here so that {@code latest} can never quietly be an older
 * backup than the newest one that exists.
 */
public record CatalogListing(List<CatalogEntry> entries, List<UnreadableManifest> unreadable,
                             List<IncompleteBackup> incomplete, List<String> skipped) {
    public CatalogListing {
        entries = List.copyOf(entries);
        unreadable = List.copyOf(unreadable);
        incomplete = List.copyOf(incomplete);
        skipped = List.copyOf(skipped);
    }

    public CatalogListing(List<CatalogEntry> entries, List<UnreadableManifest> unreadable) {
        this(entries, unreadable, List.of(), List.of());
    }

    /** The unreadable manifests of backups that no repository could list: those backups are lost to the catalog. */
    public List<UnreadableManifest> unlisted() {
        return unreadable.stream().filter(u -> entries.stream().noneMatch(e -> e.id().equals(u.id())
                && e.job().equals(u.job()))).toList();
    }

    /**
     * Fails when a backup of {@code job} newer than every listed one exists but its manifest cannot be read in any
     * repository: asked for the latest backup, the operator would otherwise get an older one without knowing it.
     */
    public void requireNewestReadable(String job) {
        Optional<CatalogEntry> newest = entries.stream().filter(e -> e.job().equals(job)).reduce((a, b) -> b);
        Optional<UnreadableManifest> newer = unlisted().stream().filter(u -> u.job().equals(job))
                .filter(u -> newest.isEmpty() || u.id().compareTo(newest.get().id()) > 0)
                .max(Comparator.comparing(UnreadableManifest::id));
        if (newer.isPresent()) {
            UnreadableManifest u = newer.get();
            throw new StowageException("the newest backup of job '" + job + "', " + u.id() + ", cannot be read in "
                    + "repository '" + u.repository() + "': " + withoutHint(u.reason()) + "; HINT: "
                    + newest.map(e -> "restore the newest readable one with --backup " + e.id() + ", or ")
                            .orElse("")
                    + "repair or remove the damaged backup ('stowage check' lists every damaged manifest)");
        }
    }

    /** The backup {@code id} of {@code job}, or its newest when id is null or {@code latest}. */
    public CatalogEntry find(String job, String id) {
        boolean latest = id == null || id.equals("latest");
        if (latest) {
            requireNewestReadable(job);
        }
        List<CatalogEntry> ofJob = entries.stream().filter(e -> e.job().equals(job)).toList();
        if (ofJob.isEmpty()) {
            throw new StowageException("job '" + job + "' has no complete backup; HINT: run 'stowage backup " + job + "'");
        }
        if (latest) {
            return ofJob.get(ofJob.size() - 1);
        }
        if (!BackupId.isValid(id)) {
            throw StowageException.usage("'" + id + "' is not a backup id (like 20261121T020000Z-F) or 'latest'");
        }
        return ofJob.stream().filter(e -> e.id().equals(id)).findFirst()
                .orElseThrow(() -> new StowageException("backup '" + id + "' of job '" + job + "' not found"
                        + unlisted().stream().filter(u -> u.job().equals(job) && u.id().equals(id)).findFirst()
                                .map(u -> ": its manifest cannot be read in repository '" + u.repository() + "' ("
                                        + withoutHint(u.reason()) + ")").orElse("")
                        + "; HINT: 'stowage list " + job + "' shows the complete backups"));
    }

    private static String withoutHint(String reason) {
        int hint = reason.indexOf("; HINT:");
        return hint < 0 ? reason : reason.substring(0, hint);
    }
}
