package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.ExternalProcess;
import java.io.InputStream;
import java.util.List;

/**
 * {@code pg_basebackup --format=tar --pgdata=- --wal-method=none} as a backup source: the cluster's data directory
 * as one tar stream on stdout. The WAL it needs comes from the archive (the server waits, at the end of the backup,
 * until the last segment it needs is archived), so the backup is as small as the data. The WAL range the manifest
 * records is read from the {@code backup_manifest} inside the stream, by {@link #tap()}.
 */
public final class PgBaseBackup implements BackupStream.Source {
    public static final String OBJECT_NAME = "base.tar";

    private final PgConnection connection;
    private final String label;
    private ExternalProcess process;
    private TarTap tap;

    public PgBaseBackup(PgConnection connection, String label) {
        this.connection = connection;
        this.label = label;
    }

    public static String toolVersion(PgConnection connection) {
        return PgTools.version(connection.tool("pg_basebackup"));
    }

    @Override
    public InputStream open() {
        process = ExternalProcess.start(List.of(connection.tool("pg_basebackup"), "--pgdata=-", "--format=tar",
                "--wal-method=none", "--checkpoint=fast", "--no-password", "--verbose", "--label=" + label),
                connection.environment(connection.database()), false);
        return process.stdout();
    }

    @Override
    public void finish() {
        process.awaitSuccess();
    }

    /**
     * A filter to put first in the pipeline: it reads {@code backup_manifest} as the tar stream passes, for the WAL
     * range. (pg_basebackup writing a tar to stdout without WAL does not print its start and end points.)
     */
    public io.stowage.pipeline.BackupStream.Stage tap() {
        return out -> {
            tap = new TarTap(out, java.util.Set.of("backup_manifest", "backup_label"));
            return tap;
        };
    }

    /** The WAL range the backup needs, from the backup's own manifest (PostgreSQL 13 and later). */
    public WalRange walRange() {
        byte[] manifest = tap == null ? null : tap.captured().get("backup_manifest");
        if (manifest == null) {
            throw new StowageException("pg_basebackup's output has no backup_manifest, which Stowage reads the WAL "
                    + "range from; HINT: physical backups need PostgreSQL 13 or later");
        }
        try {
            com.fasterxml.jackson.databind.JsonNode ranges = io.stowage.catalog.ManifestCodec.JSON.readTree(manifest)
                    .path("WAL-Ranges");
            com.fasterxml.jackson.databind.JsonNode first = ranges.get(0);
            com.fasterxml.jackson.databind.JsonNode last = ranges.get(ranges.size() - 1);
            return new WalRange(first.get("Timeline").asInt(), first.get("Start-LSN").asText(),
                    last.get("End-LSN").asText());
        } catch (java.io.IOException | RuntimeException e) {
            throw new StowageException("cannot read the WAL range from pg_basebackup's backup_manifest: " + e.getMessage());
        }
    }

    /** Timeline and start and end LSN of a base backup. */
    public record WalRange(int timeline, String start, String stop) {
    }

    @Override
    public String objectName() {
        return OBJECT_NAME;
    }

    @Override
    public void close() {
        if (process != null) {
            process.close();
        }
    }
}
