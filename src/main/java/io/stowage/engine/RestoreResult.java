package io.stowage.engine;

import io.stowage.catalog.CatalogEntry;

/** A finished restore: the backup restored, the repository read, and the one line the command prints. */
public record RestoreResult(CatalogEntry backup, String repository, String summary) {
}
