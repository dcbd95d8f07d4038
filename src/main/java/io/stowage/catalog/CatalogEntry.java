package io.stowage.catalog;

import java.util.List;
import java.util.Map;

/**
 * A complete backup as the catalog sees it: its manifest, the repositories that hold a complete copy, when it was last
 * proven by a verification (null if never), whether it is pinned (a {@code pinned.json} beside its manifest in any
 * repository: see {@link Pins}), and, per repository, the objects its manifest names that the repository's listing
 * lacks (deleted by hand, lost: the copy there is damaged).
 */
public record CatalogEntry(Manifest manifest, List<String> repositories, java.time.Instant verified, boolean pinned,
                           Map<String, List<String>> missing) {
    public CatalogEntry {
        repositories = List.copyOf(repositories);
        missing = missing == null ? Map.of() : Map.copyOf(missing);
    }

    public CatalogEntry(Manifest manifest, List<String> repositories, java.time.Instant verified) {
        this(manifest, repositories, verified, false, Map.of());
    }

    public String id() {
        return manifest.id();
    }

    public String job() {
        return manifest.job();
    }

    /** Whether the copy in {@code repository} lacks objects its manifest names. */
    public boolean damagedIn(String repository) {
        return missing.containsKey(repository);
    }
}
