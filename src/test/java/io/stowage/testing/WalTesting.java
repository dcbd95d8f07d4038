package io.stowage.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.runtime.StowageService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** What the physical-backup tests share: an archiving cluster, WAL switches, the server's clock, backups by route. */
public final class WalTesting {
    private WalTesting() {
    }

    /**
     * A new cluster that archives its WAL through bin/stowage-archive-wal into {@code spool}, and keeps commit times
     * ({@link #commitTime}).
     */
    public static ThrowawayPostgres archivingCluster(Path spool) {
        return ThrowawayPostgres.startNew(Map.of("wal_level", "replica", "archive_mode", "on", "archive_command",
                "'" + Path.of("bin/stowage-archive-wal").toAbsolutePath() + " " + spool + " %p %f'",
                "track_commit_timestamp", "on"));
    }

    /**
     * When the transaction that wrote the row {@code where} selects in {@code table} committed, as its WAL commit
     * record says (to the microsecond): what recovery targets are compared with.
     */
    public static Instant commitTime(ThrowawayPostgres cluster, String table, String where) throws Exception {
        try (var c = cluster.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT pg_xact_commit_timestamp(xmin) FROM " + table + " WHERE " + where)) {
            assertThat(rs.next()).as("a row where " + where).isTrue();
            return rs.getTimestamp(1).toInstant();
        }
    }

    /** Closes the current WAL segment (so it is archived or received) and returns its name. */
    public static String switchWal(ThrowawayPostgres cluster) throws Exception {
        try (var c = cluster.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The server's clock, which recovery targets are compared with. */
    public static Instant serverNow(ThrowawayPostgres cluster) throws Exception {
        try (var c = cluster.connect("postgres"); var s = c.createStatement();
             var rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    /** The file names in the local repository's {@code <job>/wal/}, sorted, without temporary files. */
    public static List<String> walKeys(Workspace ws, String job) throws Exception {
        Path wal = ws.repository().resolve(job).resolve("wal");
        if (!Files.isDirectory(wal)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(wal)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    /** A full backup through the service's run-backup route, as the command line starts one; it must succeed. */
    public static void backupNow(StowageService service, String job) {
        var exchange = service.runtime().context().createProducerTemplate().send("direct:run-backup", e -> {
            e.getIn().setHeader("StowageJob", job);
            e.getIn().setHeader("StowageBackupType", "full");
            e.getIn().setHeader("StowageTrigger", "command");
        });
        assertThat(exchange.getProperty(org.apache.camel.Exchange.EXCEPTION_CAUGHT, Throwable.class)).isNull();
    }
}
