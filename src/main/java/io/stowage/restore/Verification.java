package io.stowage.restore;

import io.stowage.StowageException;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageServices;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;

/**
 * Proves a logical backup by restoring it: every object's SHA-256 in every repository that holds it (the copy the
 * restore reads is hashed by the restore itself, before it is used), then a real
 * restore into a scratch database ({@code stowage_verify_<job>}) whose duration is the measured RTO, then the built-in
 * probes (it connects; it has tables; every table can be read in full; every index is valid). The result is recorded
 * beside the manifest as {@code verified-<time>.json}, which {@code list} shows. The scratch database is always
 * dropped, and one left by a killed verification is dropped before the next one starts.
 */
public final class Verification {
    private final StowageServices services;
    private final Consumer<String> warnings;

    public Verification(StowageServices services, Consumer<String> warnings) {
        this.services = services;
        this.warnings = warnings;
    }

    public record Result(CatalogEntry backup, Duration restoreTime, int tables, long rows) {
    }

    public Result verify(Job job, String backupId) throws Exception {
        if (!"logical".equals(job.method())) {
            throw StowageException.usage("verify restores logical backups in this version; job '" + job.name()
                    + "' is " + job.method());
        }
        CatalogEntry entry = services.catalog().find(job.name(), backupId, warnings);
        Manifest manifest = entry.manifest();
        // The restore below hashes every object of the first repository holding the backup before it uses it;
        // here, the copies in the other repositories, so that each object is read once.
        boolean first = true;
        for (Repository repository : services.repositories().all()) {
            if (entry.repositories().contains(repository.name())) {
                if (first) {
                    first = false;
                    continue;
                }
                for (Manifest.StoredObject object : manifest.objects()) {
                    checkObject(repository, Catalog.objectKey(manifest.job(), manifest.id(), object.name()), object);
                }
            }
        }
        String scratch = "stowage_verify_" + job.name().replace('-', '_');
        PgConnection connection = PgConnection.of(job);
        PostgresServer server = new PostgresServer(connection);
        server.dropDatabase(scratch); // left by a verification that was killed
        long started = System.nanoTime();
        try {
            new LogicalRestore(services, warnings).restore(job, manifest.id(), scratch, true);
            Duration restoreTime = Duration.ofNanos(System.nanoTime() - started);
            long[] probed = probe(connection, scratch);
            record(entry, restoreTime, probed);
            return new Result(entry, restoreTime, (int) probed[0], probed[1]);
        } finally {
            server.dropDatabase(scratch);
        }
    }

    private static void checkObject(Repository repository, String key, Manifest.StoredObject object) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long size;
        try (InputStream in = new DigestInputStream(repository.open(key), sha)) {
            size = in.transferTo(OutputStream.nullOutputStream());
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (size != object.storedBytes() || !actual.equals(object.sha256())) {
            throw new StowageException("object '" + key + "' in repository '" + repository.name() + "' is corrupt: "
                    + "SHA-256 " + actual + " (" + size + " bytes), the manifest says " + object.sha256());
        }
    }

    /** The built-in probes; returns the number of tables and of rows read. */
    private static long[] probe(PgConnection job, String database) throws Exception {
        PgConnection scratch = new PgConnection(job.host(), job.port(), job.user(), job.password(), database, job.binDir());
        try (Connection c = scratch.open(database); Statement s = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
                    + " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            long rows = 0;
            for (String table : tables) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
                    rs.next();
                    rows += rs.getLong(1);
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid"
                    + " AND n.nspname NOT IN ('pg_catalog', 'information_schema')")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    throw new StowageException("probe failed: " + rs.getLong(1) + " invalid index(es) after the restore");
                }
            }
            return new long[] {tables.size(), rows};
        }
    }

    private void record(CatalogEntry entry, Duration restoreTime, long[] probed) throws Exception {
        Instant now = Instant.now();
        String stamp = BackupId.of(now, entry.manifest().type()).substring(0, 16);
        String json = "{\"verified\":\"" + now + "\",\"restoreSeconds\":" + restoreTime.toMillis() / 1000.0
                + ",\"tables\":" + probed[0] + ",\"rows\":" + probed[1] + "}\n";
        for (Repository repository : services.repositories().all()) {
            if (entry.repositories().contains(repository.name())) {
                repository.write(Catalog.objectKey(entry.job(), entry.id(), "verified-" + stamp + ".json"),
                        out -> out.write(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
        }
    }
}
