package io.stowage.engine.postgresql;
import io.stowage.restore.StoredObjects;

import io.stowage.Interruption;
import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.engine.postgresql.BackupWal;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.WalNames;
import io.stowage.engine.postgresql.WalObject;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Point-in-time restore of a PostgreSQL physical backup into a data directory: the newest base backup that finished
 * before the target, laid out in the directory (0700; every entry checked first, {@link BaseBackupTar}); the
 * archived WAL from the backup's start on, fetched in parallel and decompressed into {@code DIR/stowage-wal} ahead
 * of replay; and the recovery settings ({@code restore_command}, the target, {@code recovery_target_action =
 * promote}, {@code recovery.signal}). Until all of that is in place the directory is marked incomplete and cannot be
 * started ({@link IncompleteRestore}). With {@code start}, PostgreSQL is started there and the restore returns once
 * recovery has finished.
 */
public final class PhysicalRestore {
    public static final String WAL_DIRECTORY = "stowage-wal";
    private static final int PARALLEL_FETCHES = 4;

    private final io.stowage.engine.EngineContext services;
    private final Consumer<String> warnings;

    public PhysicalRestore(io.stowage.engine.EngineContext services, Consumer<String> warnings) {
        this.services = services;
        this.warnings = warnings;
    }

    /** What to recover to: a time, everything archived ({@code latest}), or the backup's own consistent point. */
    public record Target(Instant time, boolean latest) {
        public static Target parse(String text) {
            if (text == null) {
                return new Target(null, false);
            }
            if (text.equals("latest")) {
                return new Target(null, true);
            }
            // PostgreSQL style offsets (+02, -0530) become ISO ones (+02:00, -05:30).
            String t = text.trim().replace('T', ' ').replaceFirst("([+-]\\d\\d)$", "$1:00")
                    .replaceFirst("([+-]\\d\\d)(\\d\\d)$", "$1:$2");
            java.time.format.DateTimeFormatter format = new java.time.format.DateTimeFormatterBuilder()
                    .appendPattern("yyyy-MM-dd HH:mm:ss")
                    .optionalStart().appendFraction(java.time.temporal.ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
                    .optionalStart().appendOffset("+HH:MM", "Z").optionalEnd()
                    .toFormatter();
            try {
                java.time.temporal.TemporalAccessor parsed = format.parse(t);
                LocalDateTime local = LocalDateTime.from(parsed);
                ZoneOffset offset = parsed.isSupported(java.time.temporal.ChronoField.OFFSET_SECONDS)
                        ? ZoneOffset.from(parsed) : ZoneOffset.UTC;
                // PostgreSQL keeps commit times to the microsecond and restores commits before the target: a
                // finer target counts as the next microsecond, so that a commit before it is still restored.
                Instant time = local.toInstant(offset);
                Instant micros = time.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
                return new Target(micros.equals(time) ? time : micros.plus(1, java.time.temporal.ChronoUnit.MICROS),
                        false);
            } catch (DateTimeParseException e) {
                throw StowageException.usage("--time '" + text + "' is not 'YYYY-MM-DD HH:MM:SS[.FFF][+TZ]' or 'latest'");
            }
        }
    }

    public record Result(CatalogEntry backup, Path dataDirectory, int walFiles, boolean started) {
    }

    /**
     * Restores into {@code directory}: new or empty, or with {@code force} one that holds an incomplete restore
     * (see {@link IncompleteRestore}: marked while under way, so that a partial directory is never started).
     */
    public Result restore(Job job, String backupId, Target target, Path directory, boolean force, boolean start,
                          int port) throws Exception {
        if (!"physical".equals(job.method())) {
            throw StowageException.usage("job '" + job.name() + "' makes " + job.method() + " backups: --time and "
                    + "--target-datadir restore physical backups; use --target-database");
        }
        if (target.time() != null && target.time().isAfter(Instant.now())) {
            throw StowageException.usage("target time " + target.time() + " is in the future; HINT: use --time latest to "
                    + "recover everything archived");
        }
        if (start) {
            // The path pg_ctl will be given: the directory a link names, when it is one.
            requireShellSafe(IncompleteRestore.check(directory, force));
        }
        CatalogEntry entry = chooseBackup(job, backupId, target);
        Manifest manifest = entry.manifest();
        Repository source = repositoryWithWal(entry);
        IncompleteRestore.check(directory, force);
        String backupName = "backup " + manifest.id() + " of job " + manifest.job();
        Path dir;
        int walFiles;
        // Verify first, then lay out: nothing is written into the directory from an object that fails its hash.
        try (StoredObjects.VerifiedCopy base = StoredObjects.fetch(services, entry, manifest.objects().get(0),
                source);
             IncompleteRestore incomplete = IncompleteRestore.begin(directory, force, manifest)) {
            dir = incomplete.directory();
            try {
                String pgVersion;
                try (InputStream in = base.decoded(manifest, services.encryption())) {
                    pgVersion = BaseBackupTar.extract(in, dir, backupName);
                } catch (IOException e) {
                    Interruption.check(); // the stop closed the file being read
                    throw e;
                }
                BaseBackupTar.requireDataDirectory(dir, pgVersion, manifest);
                walFiles = fetchWal(job, manifest, base.source(), dir.resolve(WAL_DIRECTORY),
                        lastSegmentNeeded(entry, target));
                writeRecoverySettings(dir, target);
                Interruption.check();
                incomplete.complete(pgVersion);
            } catch (Exception e) {
                throw incomplete.failed(e, backupName);
            }
        }
        boolean started = false;
        if (start) {
            startAndAwaitRecovery(job, dir, port);
            started = true;
        }
        return new Result(entry, dir, walFiles, started);
    }

    /**
     * The first repository, in order of preference, that holds the backup and every WAL segment from its start to
     * its stop segment: without them PostgreSQL cannot even reach a consistent state ("could not locate required
     * checkpoint record"). Refuses, naming what each repository lacks, before anything is written.
     */
    private Repository repositoryWithWal(CatalogEntry entry) {
        BackupWal wal = new BackupWal();
        Map<String, String> lacking = new LinkedHashMap<>();
        List<String> reasons = new ArrayList<>();
        for (Repository repository : StoredObjects.holding(services, entry)) {
            try {
                List<String> missing = wal.missing(repository, entry.manifest());
                if (missing.isEmpty()) {
                    lacking.forEach((name, segments) -> warnings.accept("repository '" + name + "' lacks WAL "
                            + "segment(s) " + segments + " of backup " + entry.id() + "; restoring from repository '"
                            + repository.name() + "', which has them all"));
                    return repository;
                }
                lacking.put(repository.name(), BackupWal.describeSegments(missing));
                reasons.add("WAL segment(s) " + BackupWal.describeSegments(missing) + " are missing from repository '"
                        + repository.name() + "'");
            } catch (IOException e) {
                reasons.add("the WAL archive in repository '" + repository.name() + "' cannot be listed: "
                        + e.getMessage());
            }
        }
        if (reasons.isEmpty()) {
            throw new StowageException("backup " + entry.id() + " is held by " + entry.repositories() + ", none of "
                    + "which is configured here");
        }
        throw new StowageException("backup " + entry.id() + " of job '" + entry.job() + "' cannot be restored: "
                + String.join("; ", reasons) + "; HINT: the service ships WAL from the job's spool to the repositories:"
                + " start it ('stowage run') and restore once 'stowage list' shows the backup's WAL ok, or restore "
                + "another backup with --backup ID");
    }

    /**
     * The last WAL segment recovery can need, or null when it may need all: a backup's own point
     * ({@code recovery_target = 'immediate'}) needs WAL to the backup's stop segment only. A target time has no such
     * bound: recovery stops at the first commit at or after it, which may lie anywhere later in the archive, and
     * PostgreSQL refuses to end recovery short of it.
     */
    private static String lastSegmentNeeded(CatalogEntry chosen, Target target) {
        return target.time() == null && !target.latest() ? PgDetails.wal(chosen.manifest()).stopSegment() : null;
    }

    private CatalogEntry chooseBackup(Job job, String backupId, Target target) {
        io.stowage.catalog.CatalogListing listing = services.catalog().read(job.name(), warnings);
        if (backupId != null && !backupId.equals("latest")) {
            CatalogEntry named = listing.find(job.name(), backupId);
            io.stowage.engine.EngineContext.requireMadeBy(job, named);
            // Recovery runs forward from a backup's end: a target before it cannot be reached from this backup, and
            // PostgreSQL would either refuse to start or stop at the backup's own point.
            if (target.time() != null && !named.manifest().finished().isBefore(target.time())) {
                throw StowageException.usage("target time " + target.time() + " is not after backup " + named.id()
                        + " finished (" + named.manifest().finished() + "): recovery can only go forward from a "
                        + "backup's end; HINT: leave out --backup to take the newest backup that finished before the "
                        + "target, or name an older one");
            }
            return named;
        }
        // Recovering to a time (or to the end of the archive), an older base backup reaches the same point; restoring
        // the newest backup's own point from an older one would not be what was asked for.
        if (target.time() == null && !target.latest()) {
            listing.requireNewestReadable(job.name());
        }
        List<CatalogEntry> entries = listing.entries().stream()
                .filter(e -> PostgresqlEngine.NAME.equals(e.manifest().engine()) && "physical".equals(e.manifest()
                        .method()) && PgDetails.wal(e.manifest()) != null).toList();
        if (entries.isEmpty()) {
            throw new StowageException("job '" + job.name() + "' has no complete physical backup; HINT: run 'stowage "
                    + "backup " + job.name() + "'");
        }
        if (target.time() == null) {
            return entries.get(entries.size() - 1);
        }
        CatalogEntry chosen = null;
        for (CatalogEntry entry : entries) {
            if (entry.manifest().finished().isBefore(target.time())) {
                chosen = entry;
            }
        }
        if (chosen == null) {
            throw new StowageException("target time " + target.time() + " is before the oldest backup of job '"
                    + job.name() + "' (finished " + entries.get(0).manifest().finished() + ")");
        }
        return chosen;
    }

    /**
     * Fetches the archived WAL files from the backup's first segment on (all timelines; up to {@code lastSegment}
     * when it is not null), in parallel. Each object is
     * re-hashed as it is read and compared with its {@code .sha256} checksum file before it is used.
     */
    private int fetchWal(Job job, Manifest manifest, Repository source, Path walDir, String lastSegment)
            throws Exception {
        Files.createDirectories(walDir);
        String first = PgDetails.wal(manifest).startSegment();
        List<String> keys = new ArrayList<>(source.list(job.name() + "/wal/"));
        keys.addAll(source.list(WalObject.partialPrefix(job.name())));
        java.util.Set<String> present = new java.util.HashSet<>(keys);
        List<WalObject> wanted = new ArrayList<>();
        java.util.Set<String> completeSegments = new java.util.HashSet<>();
        java.util.Map<String, WalObject> partials = new java.util.TreeMap<>();
        for (String key : keys) {
            WalObject object = WalObject.ofKey(key).orElse(null);
            if (object == null || object.checksumFile()) {
                continue;
            }
            if (object.isSegment()) {
                completeSegments.add(object.walName());
            }
            if (object.partial()) {
                partials.put(object.walName(), object);
                continue;
            }
            String name = object.walName();
            boolean segment = object.isSegment() && name.substring(8).compareTo(first.substring(8)) >= 0
                    && WalNames.timeline(name) >= PgDetails.wal(manifest).timeline()
                    && (lastSegment == null || name.compareTo(lastSegment) <= 0);
            if (segment || object.isHistory()) {
                wanted.add(object);
            }
        }
        // The copy of a segment pg_receivewal was still receiving, for a segment that has no complete copy: the
        // newest WAL the repositories hold (replay stops at its last whole record).
        for (WalObject partial : partials.values()) {
            String name = partial.walName();
            if (!completeSegments.contains(name) && name.substring(8).compareTo(first.substring(8)) >= 0
                    && WalNames.timeline(name) >= PgDetails.wal(manifest).timeline()
                    && (lastSegment == null || name.compareTo(lastSegment) <= 0)) {
                wanted.add(partial);
            }
        }
        warnOfGap(wanted, first, PgDetails.wal(manifest).segmentSize());
        String prefix = job.name() + "/wal/";
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL_FETCHES);
        java.util.concurrent.atomic.AtomicInteger unchecked = new java.util.concurrent.atomic.AtomicInteger();
        // A stop interrupts the fetches (their reads and writes end), and so ends the wait for them below.
        try (Interruption.Registration stop = Interruption.onStop(pool::shutdownNow)) {
            List<Future<?>> fetches = new ArrayList<>();
            for (WalObject object : wanted) {
                fetches.add(pool.submit(() -> {
                    String key = (object.partial() ? WalObject.partialPrefix(job.name()) : prefix)
                            + object.file();
                    String expected = null;
                    if (present.contains(prefix + object.checksumFileName())) {
                        expected = WalObject.readChecksum(source, prefix + object.checksumFileName());
                    } else if (!object.partial()) {
                        unchecked.incrementAndGet();
                    }
                    Path target = walDir.resolve(object.walName());
                    Path tmp = walDir.resolve("." + object.walName() + ".tmp");
                    MessageDigest sha = StoredObjects.sha256();
                    try (DigestInputStream hashed = new DigestInputStream(source.open(key), sha)) {
                        InputStream in = null;
                        try {
                            InputStream stored = new BufferedInputStream(hashed, 1 << 16);
                            if (object.encrypted()) {
                                stored = services.encryption().decryptAny(stored, "WAL file " + key);
                            }
                            in = object.codec().decompress(stored);
                            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                            hashed.transferTo(OutputStream.nullOutputStream()); // what the decoders left unread
                            in.close();
                        } catch (RuntimeException | java.io.IOException e) {
                            Files.deleteIfExists(tmp);
                            // A decoder's complaint about a changed object: name the object by its checksum.
                            try {
                                hashed.transferTo(OutputStream.nullOutputStream());
                                checkWalChecksum(source, key, expected, sha);
                            } catch (java.io.IOException unreadable) {
                                e.addSuppressed(unreadable);
                            }
                            if (in != null) {
                                try {
                                    in.close(); // the decoder's native context
                                } catch (java.io.IOException | RuntimeException unclosed) {
                                    e.addSuppressed(unclosed);
                                }
                            }
                            throw new StowageException("WAL file " + object.walName() + " in repository '"
                                    + source.name() + "' cannot be read: "
                                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
                        }
                    }
                    try {
                        checkWalChecksum(source, key, expected, sha);
                    } catch (StowageException e) {
                        Files.deleteIfExists(tmp);
                        throw e;
                    }
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                    return null;
                }));
            }
            for (Future<?> fetch : fetches) {
                try {
                    fetch.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    Interruption.check();
                    if (e.getCause() instanceof Exception cause) {
                        throw cause;
                    }
                    throw e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        if (unchecked.get() > 0) {
            warnings.accept(unchecked.get() + " WAL file(s) have no checksum file (archived before checksums were "
                    + "kept); their integrity rests on the codec's and PostgreSQL's own checksums");
        }
        return wanted.size();
    }

    /**
     * Recovery replays WAL segment after segment and ends at the first one it cannot find, as if the archive ended
     * there (with {@code --time latest} it then promotes, without a word): a segment missing after the backup's own
     * range is named, with what it means, before anything is replayed.
     */
    private void warnOfGap(List<WalObject> wanted, String first, long segmentSize) {
        java.util.TreeSet<String> numbers = new java.util.TreeSet<>();
        for (WalObject object : wanted) {
            if (object.isSegment() || object.partial()) {
                numbers.add(object.walName().substring(8));
            }
        }
        String expected = first.substring(8);
        for (String number : numbers) {
            if (number.compareTo(expected) > 0) {
                warnings.accept("the WAL archive has a gap: no repository copy of segment " + first.substring(0, 8)
                        + expected + " (on any timeline); recovery cannot replay past it, so nothing written after it "
                        + "is restored (a target before it is not affected); HINT: 'stowage check' names the gaps "
                        + "of the archive");
                return;
            }
            if (number.equals(expected)) {
                expected = WalNames.next(first.substring(0, 8) + number, segmentSize).substring(8);
            }
        }
    }

    private static void checkWalChecksum(Repository source, String key, String expected, MessageDigest sha) {
        StoredObjects.requireAsChecksummed(HexFormat.of().formatHex(sha.digest()), expected, key, source);
    }

    private static void writeRecoverySettings(Path dir, Target target) throws IOException {
        StringBuilder settings = new StringBuilder("\n# Written by stowage restore\n");
        // PostgreSQL runs restore_command through a shell, in the data directory: the WAL directory is named
        // relative to it, so no part of the directory's path (quotes, '$(...)') ever reaches that shell.
        settings.append("restore_command = 'cp \"").append(WAL_DIRECTORY).append("/%f\" \"%p\"'\n");
        settings.append("recovery_target_timeline = 'latest'\n");
        if (target.time() != null) {
            settings.append("recovery_target_time = '").append(DateTimeFormatter.ofPattern(
                    "yyyy-MM-dd HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC).format(target.time())).append("'\n");
            settings.append("recovery_target_inclusive = false\n");
        } else if (!target.latest()) {
            settings.append("recovery_target = 'immediate'\n");
        }
        settings.append("recovery_target_action = 'promote'\n");
        // A restored copy must not archive into its source's archive: after promotion it would add a timeline that
        // later restores of the source could follow by mistake. Turn archiving back on deliberately if this copy
        // is to become the primary.
        settings.append("archive_mode = 'off'\n");
        // The source's own recovery commands (from its postgresql.auto.conf or postgresql.conf, in the backup) act on
        // the source's archive: pg_archivecleanup there would delete WAL the source still needs, and a crafted
        // backup's command would run on this host. The copy runs none; set them deliberately if it is to be a standby.
        settings.append("archive_cleanup_command = ''\n");
        settings.append("recovery_end_command = ''\n");
        // Never through a link the backup may hold under that name.
        Files.writeString(dir.resolve("postgresql.auto.conf"), settings, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.createFile(dir.resolve("recovery.signal"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        // postmaster.pid and the like are excluded by pg_basebackup; pg_wal must exist for the server to start.
        Files.createDirectories(dir.resolve("pg_wal"));
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rwx------");
        Files.setPosixFilePermissions(dir.resolve("pg_wal"), owner);
    }

    /** Refuses, with what to do instead, a data directory pg_ctl's shell would read part of. */
    private static void requireShellSafe(Path dir) {
        if (!ServerUser.shellSafe(dir)) {
            throw StowageException.usage("--start cannot start PostgreSQL on " + dir + ": pg_ctl hands the data "
                    + "directory's path to a shell, and this one holds characters other than letters, digits and "
                    + "/ . _ + -; HINT: restore without --start (the directory may then be moved or renamed before it "
                    + "is started), or choose a plainer name");
        }
    }

    private static void startAndAwaitRecovery(Job job, Path dir, int port) throws Exception {
        requireShellSafe(dir);
        // As root, the restored directory goes to the server's user, who runs the server (PostgreSQL refuses root).
        ServerUser.handOver(dir);
        PgConnection connection = PgConnection.of(job);
        Path log = dir.resolve("stowage-restore.log");
        try {
            try {
                ServerUser.run(List.of(connection.tool("pg_ctl"), "-D", dir.toString(), "-l", log.toString(), "-w",
                        "-t", "3600", "-o", "-p " + port + " -c listen_addresses=127.0.0.1", "start"));
            } catch (StowageException e) {
                throw Interruption.caused(e) ? e : serverStopped(dir, log, e);
            }
            awaitRecovery(connection, dir, log, port);
        } catch (StowageException e) {
            if (!Interruption.caused(e)) {
                throw e;
            }
            // Stopped while the server starts or recovers: it was started here, so it stops here (pg_ctl start
            // leaves it running when stopped itself); recovery resumes when the directory is started again.
            Interruption.cleanUp(() -> {
                if (Files.exists(dir.resolve("postmaster.pid"))) {
                    ServerUser.run(List.of(connection.tool("pg_ctl"), "-D", dir.toString(), "-m", "fast", "-w", "-t",
                            "60", "stop"));
                }
            });
            throw new StowageException("PostgreSQL on " + dir + " was stopped before recovery finished: "
                    + e.getMessage() + "; the data directory is complete: start it with pg_ctl -D " + dir
                    + " start to let recovery finish", e);
        }
    }

    private static void awaitRecovery(PgConnection connection, Path dir, Path log, int port) throws Exception {
        long deadline = System.currentTimeMillis() + 3_600_000L;
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + connection.database();
        while (System.currentTimeMillis() < deadline) {
            if (!Files.exists(dir.resolve("postmaster.pid"))) {
                // It accepted connections during recovery, then stopped: recovery itself failed.
                throw serverStopped(dir, log, null);
            }
            try (Connection c = DriverManager.getConnection(url, connection.user(), connection.password());
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
            } catch (java.sql.SQLException stillStarting) {
                // the server is still replaying
            }
            Interruption.pause(500);
        }
        throw new StowageException("recovery in " + dir + " did not finish within an hour");
    }

    /**
     * The server on a restored directory stopped before recovery finished: its log's last FATAL (or PANIC) line, and
     * what to do about the usual cause.
     */
    static StowageException serverStopped(Path dir, Path log, Exception cause) {
        String reason = "see " + log;
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).contains("FATAL:") || lines.get(i).contains("PANIC:")) {
                    reason = lines.get(i).substring(lines.get(i).indexOf(lines.get(i).contains("FATAL:") ? "FATAL:"
                            : "PANIC:")).trim();
                    break;
                }
            }
        } catch (IOException unreadable) {
            // the reason stays a pointer to the log
        }
        String hint = reason.contains("recovery ended before configured recovery target was reached")
                ? "; HINT: the archived WAL ends before the target time (no commit at or after it is archived yet): use "
                + "--time latest, or wait for the WAL and check the archive with 'stowage check'"
                : "; HINT: the server's log is " + log;
        String message = "PostgreSQL on " + dir + " stopped before recovery finished: " + reason + hint;
        return cause == null ? new StowageException(message) : new StowageException(message, cause);
    }
}
