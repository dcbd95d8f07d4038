package io.stowage.engine;

import io.stowage.catalog.BackupType;
import java.util.function.Consumer;

/**
 * One backup as its source sees it: its id and type, the parent a differential or incremental backup builds on (null
 * for a full one), and where to put what the operator should know although the backup succeeds.
 */
public record BackupRequest(String id, BackupType type, io.stowage.catalog.Manifest parent, Consumer<String> warnings) {
}
