package io.stowage.catalog;

import java.util.List;

/** A complete backup as the catalog sees it: its manifest and the repositories that hold a complete copy. */
public record CatalogEntry(Manifest manifest, List<String> repositories) {
    public String id() {
        return manifest.id();
    }

    public String job() {
        return manifest.job();
    }
}
