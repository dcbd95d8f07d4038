package io.stowage.cli;

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
            io.stowage.catalog.CatalogListing catalog = readCatalog(runtime);
            failed |= !catalog.unreadable().isEmpty();
            for (io.stowage.schedule.WalArchive archive : io.stowage.schedule.WalArchive.from(runtime.context())) {
                if (jobName == null || jobName.equals(archive.job())) {
                    failed |= !checkWal(runtime, archive, catalog.entries());
                    if (archive.streams()) {
                        failed |= !checkReceiver(runtime, archive);
                    }
                }
            }
            failed |= !checkEncryptionKeys(runtime, catalog.entries());
            for (Repository repository : runtime.services().repositories().all()) {
                try {
                    repository.check();
                    out().println("ok    repository " + repository.name() + " at " + repository.location() + " ("
                            + runtime.services().repositories().attributes(repository.name()).describe()
                            + (repository.name().equals(runtime.services().repositories().home().name())
                            ? ", home: locks, audit log, alert outbox" : "") + ")");
                } catch (Exception e) {
                    failed = true;
                    out().println("FAIL  repository " + repository.name() + ": " + io.stowage.Failures.describe(e));
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
     * The catalog, read once for every check below. Each manifest that is there but cannot be used is a FAIL line
     * (instead of the warning other commands print): its backup cannot be restored from that repository.
     */
    private io.stowage.catalog.CatalogListing readCatalog(StowageRuntime runtime) {
        java.util.List<String> warnings = new java.util.ArrayList<>();
        io.stowage.catalog.CatalogListing catalog = runtime.services().catalog().read(jobName, warnings::add);
        for (io.stowage.catalog.UnreadableManifest bad : catalog.unreadable()) {
            warnings.remove(bad.describe());
            java.util.Optional<io.stowage.catalog.CatalogEntry> elsewhere = catalog.entries().stream()
                    .filter(e -> e.id().equals(bad.id()) && e.job().equals(bad.job())).findFirst();
            String hint = bad.reason().contains("; HINT:") ? ""
                    : elsewhere.map(e -> "; HINT: repository '" + e.repositories().get(0) + "' holds a sound copy of "
                            + "it: copy its manifest.json over the damaged one")
                    .orElse("; HINT: the backup cannot be restored until its manifest is repaired (see 'Damaged "
                            + "manifests' in docs/repository-format.md)");
            out().println("FAIL  backup " + bad.id() + " of job " + bad.job() + " in repository " + bad.repository()
                    + ": " + io.stowage.Secrets.mask(bad.reason()) + hint);
        }
        warnings.forEach(this::warn);
        return catalog;
    }

    /**
     * The passphrase, when one is configured: whether this JVM may use the memory its key derivation needs (a FAIL:
     * every backup would fail). Then warns about key files (passphrase, identity) that others can read, and about
     * backups that only keys no longer configured can read, or that are passphrase-protected while no passphrase is
     * configured: if those keys (or that passphrase) are lost, so are the backups.
     */
    private boolean checkEncryptionKeys(StowageRuntime runtime, List<io.stowage.catalog.CatalogEntry> entries) {
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
        } else if (!keys.recipients().isEmpty()) {
            out().println("ok    encryption: to " + keys.recipients().size() + " age recipient(s)");
        }
        for (String exposed : keys.exposedKeyFiles()) {
            out().println("WARN  " + exposed);
        }
        java.util.List<String> current = keys.recipients();
        for (io.stowage.catalog.CatalogEntry entry : entries) {
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

    /**
     * The WAL archive of a physical job, in each repository: gaps since the oldest physical backup, and each backup's
     * own WAL (its start to its stop segment), which a gap scan cannot see when it has not been shipped yet; named.
     */
    private boolean checkWal(StowageRuntime runtime, io.stowage.schedule.WalArchive archive,
                             List<io.stowage.catalog.CatalogEntry> listed) {
        java.util.Optional<String> unusable = archive.spoolProblem();
        if (unusable.isPresent()) {
            out().println("FAIL  wal " + archive.job() + ": " + unusable.get());
            return false;
        }
        try {
            io.stowage.schedule.WalArchive.SpoolState spool = archive.spoolState(java.time.Instant.now());
            java.util.List<io.stowage.catalog.CatalogEntry> backups = listed.stream()
                    .filter(e -> e.job().equals(archive.job()) && e.manifest().wal() != null).toList();
            String spoolText = spool.files() + " file(s), " + io.stowage.Sizes.human(spool.bytes()) + " waiting in "
                    + archive.spool();
            if (backups.isEmpty()) {
                out().println("ok    wal " + archive.job() + ": no physical backup yet; " + spoolText);
                return true;
            }
            io.stowage.catalog.Manifest oldest = backups.get(0).manifest();
            io.stowage.engine.postgresql.BackupWal backupWal = new io.stowage.engine.postgresql.BackupWal();
            boolean ok = true;
            for (Repository repository : runtime.services().repositories().all()) {
                boolean sound = true;
                if (backups.get(0).repositories().contains(repository.name())) {
                    java.util.List<String> gaps = io.stowage.schedule.WalArchive.gaps(
                            backupWal.archive(repository, archive.job()), oldest.wal().startSegment(),
                            oldest.wal().segmentSize());
                    if (!gaps.isEmpty()) {
                        sound = false;
                        out().println("FAIL  wal " + archive.job() + " in " + repository.name() + ": gap at segment "
                                + String.join(", ", gaps) + " (needed since backup " + oldest.id() + ")");
                    }
                }
                for (io.stowage.catalog.CatalogEntry backup : backups) {
                    if (!backup.repositories().contains(repository.name())) {
                        continue;
                    }
                    java.util.List<String> missing = backupWal.missing(repository, backup.manifest());
                    if (!missing.isEmpty()) {
                        sound = false;
                        long waiting = missing.stream().filter(s -> java.nio.file.Files.exists(archive.spool()
                                .resolve(s))).count();
                        out().println("FAIL  wal " + archive.job() + " in " + repository.name() + ": backup "
                                + backup.id() + " lacks WAL segment(s) " + io.stowage.engine.postgresql.BackupWal
                                .describe(missing) + " and cannot be restored from there; " + (waiting > 0
                                ? waiting + " of them wait in " + archive.spool() + "; HINT: start the service "
                                + "('stowage run'), which ships them"
                                : "they are not in " + archive.spool() + " either; HINT: restore it from another "
                                + "repository that has them, or take a new backup"));
                    }
                }
                if (sound && backups.stream().anyMatch(b -> b.repositories().contains(repository.name()))) {
                    out().println("ok    wal " + archive.job() + " in " + repository.name() + ": "
                            + (backups.get(0).repositories().contains(repository.name()) ? "no gap since "
                            + oldest.wal().startSegment() + " (backup " + oldest.id() + "), " : "")
                            + "every backup's own WAL archived; " + spoolText);
                }
                ok &= sound;
            }
            return ok;
        } catch (Exception e) {
            out().println("FAIL  wal " + archive.job() + ": " + io.stowage.Secrets.mask(e.getMessage()));
            return false;
        }
    }

    /** Databases that interrupted restores left on the job's server: named, never mistaken for restored ones. */
    private void warnAboutUnfinishedRestores(Job job, PgConnection connection) {
        for (String name : io.stowage.engine.postgresql.RestoreTarget.leftovers(connection)) {
            out().println("WARN  job " + job.name() + ": database '" + name + "' was left by an interrupted restore ("
                    + (io.stowage.engine.postgresql.RestoreTarget.unfinished(name) ? "an unfinished restore, not a complete database"
                    : "the old database a restore replaced") + "); the next restore into the same target removes it, "
                    + "or: DROP DATABASE \"" + name + "\"");
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
                warnAboutUnfinishedRestores(job, connection);
                if (physical) {
                    String unlogged = new PostgresServer(connection).unloggedWarning(job.name());
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
