package io.stowage.cli;

import io.stowage.StowageException;

import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PgDump;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageRuntime;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code check [JOB]}: validates configuration and routes, reaches each job's database and every repository. */
@Command(name = "check", description = "Validate configuration and routes, and reach each job's database and "
        + "repositories.")
final class CheckCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", arity = "0..1", description = "Check this job only.")
    String jobName;

    @Override
    public Integer call() {
        try (StowageRuntime runtime = startRuntime(false)) {
            out().println("ok    configuration " + top.config.toAbsolutePath().normalize() + " and its routes");
            boolean failed = false;
            List<Job> jobs = jobName == null ? List.copyOf(runtime.services().jobs().all())
                    : List.of(runtime.services().jobs().get(jobName));
            for (Job job : jobs) {
                failed |= !checkJob(job);
            }
            for (io.stowage.schedule.WalArchive archive : io.stowage.schedule.WalArchive.from(runtime.context())) {
                if (jobName == null || jobName.equals(archive.job())) {
                    failed |= !checkWal(runtime, archive);
                    if (archive.streams()) {
                        failed |= !checkReceiver(runtime, archive);
                    }
                }
            }
            failed |= !checkEncryptionKeys(runtime);
            for (Repository repository : runtime.services().repositories().all()) {
                try {
                    repository.check();
                    out().println("ok    repository " + repository.name() + " at " + repository.location());
                } catch (Exception e) {
                    failed = true;
                    out().println("FAIL  repository " + repository.name() + ": " + e.getMessage());
                }
            }
            out().flush();
            if (failed) {
                err().println("error: check found problems (marked FAIL above)");
                return 1;
            }
            return 0;
        }
    }

    /**
     * The passphrase, when one is configured: its file's permissions, and whether this JVM may use the memory its
     * key derivation needs (a FAIL: every backup would fail). Then warns about backups that only keys no longer
     * configured can read, or that are passphrase-protected while no passphrase is configured: if those keys (or that
     * passphrase) are lost, so are the backups.
     */
    private boolean checkEncryptionKeys(StowageRuntime runtime) {
        io.stowage.crypto.AgeKeys keys = runtime.services().encryption();
        boolean ok = true;
        if (keys.passphrase()) {
            long need = keys.derivationMemoryBytes();
            long max = Runtime.getRuntime().maxMemory();
            if (need > max) {
                ok = false;
                out().println("FAIL  encryption: the passphrase's scrypt work factor 2^" + keys.workFactor() + " needs "
                        + (need >> 20) + " MiB of heap and the JVM has at most " + (max >> 20) + " MiB; HINT: raise "
                        + "it (STOWAGE_JAVA_OPTS=-Xmx" + ((need >> 20) + 256) + "m) or lower "
                        + "AGE_PASSPHRASE_WORK_FACTOR");
            } else {
                out().println("ok    encryption: passphrase from " + keys.passphraseFile() + " (age scrypt, work factor "
                        + "2^" + keys.workFactor() + ")");
            }
            try {
                java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions =
                        java.nio.file.Files.getPosixFilePermissions(keys.passphraseFile());
                if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                    out().println("WARN  passphrase file " + keys.passphraseFile() + " is readable by others ("
                            + java.nio.file.attribute.PosixFilePermissions.toString(permissions) + "); HINT: chmod 600 "
                            + keys.passphraseFile());
                }
            } catch (java.io.IOException | UnsupportedOperationException e) {
                // Read at start already; a file system without POSIX permissions has nothing to warn about.
            }
        } else if (!keys.recipients().isEmpty()) {
            out().println("ok    encryption: to " + keys.recipients().size() + " age recipient(s)");
        }
        java.util.List<String> current = keys.recipients();
        for (io.stowage.catalog.CatalogEntry entry : runtime.services().catalog().list(jobName, this::warn)) {
            io.stowage.catalog.Manifest.Encryption encryption = entry.manifest().encryption();
            if (encryption != null && encryption.passphrase()) {
                if (!keys.passphrase()) {
                    out().println("WARN  backup " + entry.id() + " of job " + entry.job() + " is passphrase-protected "
                            + "and no passphrase is configured; keep its passphrase (restore with AGE_PASSPHRASE_FILE "
                            + "set and AGE_RECIPIENTS unset), or take a new backup");
                }
            } else if (encryption != null && encryption.recipients().stream().noneMatch(current::contains)) {
                out().println("WARN  backup " + entry.id() + " of job " + entry.job() + " is readable only by keys no "
                        + "longer configured: " + String.join(", ", encryption.recipients())
                        + "; keep their identities, or take a new backup");
            }
        }
        return ok;
    }

    /**
     * A pg_receivewal job: the role may replicate, the server has WAL senders, and the slot's state (missing until
     * the service first starts; while inactive, the WAL the server keeps for it grows).
     */
    private boolean checkReceiver(StowageRuntime runtime, io.stowage.schedule.WalArchive archive) {
        String slot = archive.slot().isEmpty() ? io.stowage.engine.postgresql.WalReceiver.defaultSlot(archive.job())
                : archive.slot();
        io.stowage.engine.postgresql.PgConnection connection =
                io.stowage.engine.postgresql.PgConnection.of(runtime.services().jobs().get(archive.job()));
        try (java.sql.Connection c = connection.open(connection.database());
             java.sql.PreparedStatement s = c.prepareStatement("SELECT (SELECT rolreplication OR rolsuper FROM pg_roles"
                     + " WHERE rolname = current_user), current_setting('max_wal_senders')::int,"
                     + " (SELECT active FROM pg_replication_slots WHERE slot_name = ?),"
                     + " (SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = ?)")) {
            s.setString(1, slot);
            s.setString(2, slot);
            try (java.sql.ResultSet rs = s.executeQuery()) {
                rs.next();
                String what = "wal receiver " + archive.job() + " (slot " + slot + ")";
                if (!rs.getBoolean(1) || rs.getInt(2) == 0) {
                    out().println("FAIL  " + what + ": " + (rs.getInt(2) == 0 ? "the server has max_wal_senders = 0"
                            : "role " + connection.user() + " may not replicate; HINT: ALTER ROLE " + connection.user()
                            + " REPLICATION"));
                    return false;
                }
                if (rs.getObject(3) == null) {
                    out().println("ok    " + what + ": the slot is created when the service starts");
                } else {
                    out().println((rs.getBoolean(3) ? "ok    " : "WARN  ") + what + ": "
                            + (rs.getBoolean(3) ? "streaming" : "not streaming (is the service running?)") + "; the "
                            + "server keeps " + io.stowage.Sizes.human(rs.getLong(4)) + " of WAL for it");
                }
                return true;
            }
        } catch (Exception e) {
            out().println("FAIL  wal receiver " + archive.job() + ": " + e.getMessage());
            return false;
        }
    }

    /** The WAL archive of a physical job: spool state, and gaps since the oldest physical backup, named. */
    private boolean checkWal(StowageRuntime runtime, io.stowage.schedule.WalArchive archive) {
        try {
            io.stowage.schedule.WalArchive.SpoolState spool = archive.spoolState(java.time.Instant.now());
            java.util.List<io.stowage.catalog.CatalogEntry> backups = runtime.services().catalog()
                    .list(archive.job(), this::warn).stream().filter(e -> e.manifest().wal() != null).toList();
            String spoolText = spool.files() + " file(s), " + io.stowage.Sizes.human(spool.bytes()) + " waiting in "
                    + archive.spool();
            if (backups.isEmpty()) {
                out().println("ok    wal " + archive.job() + ": no physical backup yet; " + spoolText);
                return true;
            }
            io.stowage.catalog.Manifest oldest = backups.get(0).manifest();
            boolean ok = true;
            for (Repository repository : runtime.services().repositories().all()) {
                if (!backups.get(0).repositories().contains(repository.name())) {
                    continue;
                }
                java.util.List<String> gaps = io.stowage.schedule.WalArchive.gaps(repository, archive.job(),
                        oldest.wal().startSegment(), oldest.wal().segmentSize());
                if (gaps.isEmpty()) {
                    out().println("ok    wal " + archive.job() + " in " + repository.name() + ": no gap since "
                            + oldest.wal().startSegment() + " (backup " + oldest.id() + "); " + spoolText);
                } else {
                    ok = false;
                    out().println("FAIL  wal " + archive.job() + " in " + repository.name() + ": gap at segment "
                            + String.join(", ", gaps) + " (needed since backup " + oldest.id() + ")");
                }
            }
            return ok;
        } catch (Exception e) {
            out().println("FAIL  wal " + archive.job() + ": " + io.stowage.Secrets.mask(e.getMessage()));
            return false;
        }
    }

    private boolean checkJob(Job job) {
        try {
            if (job.engine().equals("postgresql")) {
                PgConnection connection = PgConnection.of(job);
                String server = new PostgresServer(connection).serverVersion();
                boolean physical = "physical".equals(job.method());
                String tool = physical ? io.stowage.engine.postgresql.PgBaseBackup.toolVersion(connection)
                        : PgDump.toolVersion(connection);
                out().println("ok    job " + job.describe() + ": PostgreSQL " + server + " at " + connection.host() + ":"
                        + connection.port() + "/" + connection.database() + ", " + (physical ? "pg_basebackup "
                        : "pg_dump ") + tool);
                if (physical) {
                    String unlogged;
                    try {
                        unlogged = PostgresServer.unloggedWarning(job.name(),
                                new PostgresServer(connection).unloggedTables());
                    } catch (StowageException e) {
                        unlogged = "job " + job.name() + ": cannot tell whether the cluster has unlogged tables, whose"
                                + " rows a physical backup does not hold: " + e.getMessage();
                    }
                    if (unlogged != null) {
                        out().println("WARN  " + io.stowage.Secrets.mask(unlogged));
                    }
                }
            } else {
                out().println("FAIL  job " + job.describe() + ": unknown engine '" + job.engine() + "'");
                return false;
            }
            return true;
        } catch (RuntimeException e) {
            out().println("FAIL  job " + job.describe() + ": " + io.stowage.Secrets.mask(e.getMessage()));
            return false;
        }
    }
}
