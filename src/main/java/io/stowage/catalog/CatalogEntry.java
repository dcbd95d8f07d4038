package io.stowage.catalog;

import java.util.List;

/**
 * A complete backup as the catalog sees it: its manifest, the repositories that hold a complete copy, and when it
 * was last proven by a verification (null if never).
 */
public record CatalogEntry(Manifest manifest, List<String> repositories, java.time.Instant verified) {
    public String id() {
        return manifest.id();
    }

    public String job() {
        return manifest.job();
    }
}
