package io.stowage.engine;

import java.nio.file.Path;
import java.util.Map;

/**
 * What {@code restore} was asked: the backup ({@code latest} or an id), a point in time (null: the backup as it is),
 * the target (a database or a data directory), one table, the repository to read from (null: the first that holds a
 * complete copy, in configured order), whether to replace an existing target, whether to start a server on a
 * restored data directory and on which port (0: not given, the engine's default), and engine-specific options by
 * name (for PostgreSQL {@code no-owner}, {@code role}, {@code no-privileges}, {@code source-database}).
 */
public record RestoreRequest(String backup, String time, String targetDatabase, Path targetDatadir, String table,
                             String from, boolean force, boolean start, int port, Map<String, String> options) {

    public RestoreRequest {
        options = Map.copyOf(options);
    }

    /** The kinds of restore this request asks for, checked against the engine's capabilities. */
    public java.util.Set<RestoreKind> kinds() {
        java.util.Set<RestoreKind> kinds = java.util.EnumSet.noneOf(RestoreKind.class);
        if (table != null) {
            kinds.add(RestoreKind.TABLE);
        } else if (targetDatadir != null) {
            kinds.add(RestoreKind.DATA_DIRECTORY);
        } else if (targetDatabase != null) {
            kinds.add(RestoreKind.DATABASE);
        }
        if (time != null) {
            kinds.add(RestoreKind.POINT_IN_TIME);
        }
        return kinds;
    }
}
