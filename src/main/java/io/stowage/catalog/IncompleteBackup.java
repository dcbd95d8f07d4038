package io.stowage.catalog;

import java.util.List;

/**
 * A backup directory in a repository with objects but no manifest: a backup still being written (here or by another
 * host), or what an interrupted backup or expiry left. Never listed or restored; expiry removes it once it is older
 * than any backup could still be running (docs/retention.md, "Orphans").
 */
public record IncompleteBackup(String job, String id, String repository, List<String> keys) {
    public IncompleteBackup {
        keys = List.copyOf(keys);
    }
}
