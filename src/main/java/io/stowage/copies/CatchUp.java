package io.stowage.copies;

import io.stowage.Failures;
import io.stowage.StowageException;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.engine.LogArchive;
import io.stowage.job.Job;
import io.stowage.lock.ExclusiveLock;
import io.stowage.repository.ChecksumFiles;
import io.stowage.repository.ObjectNotFoundException;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catch-up of copies: every complete backup of a job (its objects, its verification records, then its manifest,
 * last) and every log file of its archive (the object, then its checksum file) that one of the job's repositories
 * holds is copied to each of the job's repositories that lacks it. The source copy is proven on the way
 * ({@link VerifiedCopy}: the manifest's SHA-256, or the log file's checksum file), so a damaged copy is never
 * propagated.
 *
 * <p>One instance keeps what it learnt between rounds (the service's loop): which repositories did not answer (one
 * WARN per outage, one INFO when one answers again), which backups each repository holds complete (a backup found
 * complete is not looked at again while its directory is there, until the next listing of the log archives), when the log archives were last listed (listing a
 * big archive in S3 costs: it is listed on the first round, after a repository came back, and every
 * {@code logInterval}).
 *
 * <p>Each backup is copied holding its job's lock, taken without waiting ({@link JobLocks}) and only for that copy: while
 * a backup of the job runs, the copy is left for the next round, and a backup waits at most for one copy. Log files
 * need no lock: the log route writes the same keys atomically with content of the same meaning. Two rounds never run at once, in this process or another: the caller holds {@link #lock}.
 */
public final class CatchUp {
    private static final Logger LOG = LoggerFactory.getLogger(CatchUp.class);
    /** The catch-up's lock, in the home repository. */
    public static final String LOCK_FILE = ".catch-up.lock";

    /** Takes a job's lock without waiting; empty while a backup of the job holds it. */
    @FunctionalInterface
    public interface JobLocks {
        Optional<? extends AutoCloseable> tryLock(String job) throws IOException;
    }

    /**
     * What one round is asked to do: one job or all (null), copies to one repository or to all (null), and whether
     * it only reports ({@code dryRun}). {@code listLogs} forces the log archives to be listed this round.
     */
    public record Options(String job, String repository, boolean dryRun, boolean listLogs) {
    }

    /** What one round did and found. */
    public static final class Report {
        private final List<String> copied = new ArrayList<>();
        private final List<String> missing = new ArrayList<>();
        private final List<String> failures = new ArrayList<>();
        private final Map<String, Map<String, Integer>> missingBackups = new TreeMap<>();
        private final Map<String, Map<String, Integer>> missingLogs = new TreeMap<>();

        /** One line per backup (or log archive) caught up. */
        public List<String> copied() {
            return List.copyOf(copied);
        }

        /** One line per backup or log archive still missing from a repository (after a dry run: all of them). */
        public List<String> missing() {
            return List.copyOf(missing);
        }

        /** One line per thing that could not be copied, and why. */
        public List<String> failures() {
            return List.copyOf(failures);
        }

        /** Backups still missing, by job and repository (every repository of each job looked at, 0 when none). */
        public Map<String, Map<String, Integer>> missingBackups() {
            return missingBackups;
        }

        /** Log files still missing, by job and repository, for the jobs whose archive was listed this round. */
        public Map<String, Map<String, Integer>> missingLogs() {
            return missingLogs;
        }

        /** Whether everything is in place: nothing missing, nothing failed. */
        public boolean complete() {
            return missing.isEmpty() && failures.isEmpty();
        }
    }

    private final StowageServices services;
    private final JobLocks locks;
    private final Duration logInterval;
    private final ManifestCodec.DetailsCheck details;
    /** Repositories that did not answer, with why: warned about once per outage. */
    private final Map<String, String> down = new HashMap<>();
    /** Per repository, the backups ({@code job/id}) found complete there, not looked at again while listed. */
    private final Map<String, Set<String>> complete = new HashMap<>();
    /** Damaged source copies already warned about ({@code repository/key}). */
    private final Set<String> warnedDamaged = new HashSet<>();
    private long logsListedAt;
    /** Whether the next round lists the log archives whatever the interval: the first, and after a comeback. */
    private boolean forceLogs = true;
    private boolean cameBack;

    public CatchUp(StowageServices services, JobLocks locks, Duration logInterval) {
        this.services = services;
        this.locks = locks;
        this.logInterval = logInterval;
        this.details = m -> services.engines().has(m.engine()) ? services.engines().get(m.engine()).detailsProblem(m)
                : null;
    }

    /**
     * The lock that keeps two catch-ups apart (the service's rounds and {@code stowage sync}), waiting up to
     * {@code wait} for the holder; empty when it is still held then.
     */
    public static Optional<ExclusiveLock> lock(Path home, Duration wait) throws IOException {
        Path file = home.resolve(LOCK_FILE);
        if (wait.isZero()) {
            return ExclusiveLock.tryAcquire(file);
        }
        try {
            return ExclusiveLock.acquire(file, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** One round. The caller holds {@link #lock}. */
    public synchronized Report run(Options options) {
        Report report = new Report();
        Set<String> downThisRound = new HashSet<>();
        cameBack = false;
        boolean listLogs = options.listLogs() || forceLogs
                || System.nanoTime() - logsListedAt >= logInterval.toNanos();
        if (listLogs) {
            // What each repository holds complete is looked at again at the same pace as the log archives: a
            // manifest lost there since (an operator, an interrupted delete) is then seen missing, without a look at
            // every manifest every round.
            complete.clear();
        }
        if (options.repository() != null) {
            services.repositories().get(options.repository()); // an unknown name: a usage error
        }
        java.util.Collection<Job> jobs = options.job() == null ? services.jobs().all()
                : List.of(services.jobs().get(options.job()));
        for (Job job : jobs) {
            List<Repository> repositories = services.repositories().forJob(job.name(),
                    job.parameters().get("repositories"));
            Optional<LogArchive> archive = services.engines().get(job.engine()).logArchive();
            List<Repository> logRepositories = archive.isEmpty() ? List.of()
                    : services.context(w -> { }).logRepositories(job);
            if (repositories.size() < 2 && logRepositories.size() < 2) {
                repositories.forEach(r -> count(report.missingBackups, job.name(), r.name(), 0));
                continue;
            }
            backups(job, repositories, options, downThisRound, report);
            if (archive.isPresent() && listLogs && logRepositories.size() > 1) {
                logs(job, archive.get(), logRepositories, options, downThisRound, report);
            }
        }
        if (listLogs) {
            // A repository down now is listed again as soon as it answers (answered() asks for it), not every round.
            logsListedAt = System.nanoTime();
            forceLogs = cameBack;
        }
        return report;
    }

    // ---------------------------------------------------------------- backups

    private void backups(Job job, List<Repository> repositories, Options options, Set<String> downThisRound,
                         Report report) {
        // Which backups each repository holds complete: one listing of the job's directory per repository, and a
        // look for the manifest of each backup not known complete yet.
        Map<String, Set<String>> holds = new LinkedHashMap<>();
        for (Repository repository : repositories) {
            if (downThisRound.contains(repository.name())) {
                continue;
            }
            try {
                holds.put(repository.name(), completeBackups(repository, job.name()));
                answered(repository);
            } catch (IOException | RuntimeException e) {
                failed(repository, e, downThisRound);
            }
        }
        Set<String> all = new TreeSet<>();
        holds.values().forEach(all::addAll);
        for (Repository target : repositories) {
            String name = target.name();
            boolean wanted = options.repository() == null || options.repository().equals(name);
            Set<String> known = holds.containsKey(name) ? holds.get(name)
                    : ofJob(complete.getOrDefault(name, Set.of()), job.name());
            Set<String> released = released(job, name, all, holds);
            int missing = 0;
            for (String id : all) {
                if (known.contains(id) || released.contains(id)) {
                    continue;
                }
                if (!wanted) {
                    missing++;
                    continue;
                }
                String what = "backup " + id + " of job " + job.name();
                List<String> sources = holds.entrySet().stream().filter(e -> e.getValue().contains(id))
                        .map(Map.Entry::getKey).toList();
                if (!holds.containsKey(name)) {
                    missing++;
                    String line = what + " is missing in repository '" + name + "' (complete in "
                            + String.join(", ", sources) + "): repository '" + name + "' does not answer";
                    (options.dryRun() ? report.missing : report.failures).add(line);
                    continue;
                }
                if (options.dryRun()) {
                    missing++;
                    report.missing.add(what + " is missing in repository '" + name + "' (complete in "
                            + String.join(", ", sources) + ")");
                    continue;
                }
                if (copyBackup(job, id, target, sources, downThisRound, report)) {
                    holds.get(name).add(id);
                    complete.computeIfAbsent(name, n -> new HashSet<>()).add(job.name() + "/" + id);
                } else {
                    missing++;
                }
            }
            if (holds.containsKey(name) || complete.containsKey(name)) {
                count(report.missingBackups, job.name(), name, missing);
            }
        }
    }

    /**
     * The log objects of {@code objects} that the retention policy of {@code job} in {@code target} would release if
     * the repository held every backup of the job: never copied there. Empty without a policy there, or when the
     * catalog cannot be read.
     */
    private Set<String> releasedLog(Job job, LogArchive archive, String target, Set<String> objects) {
        io.stowage.retention.Planner.Rules rules = io.stowage.retention.Expiry.rules(job, target, services.settings());
        if (!rules.any()) {
            return Set.of();
        }
        io.stowage.catalog.CatalogListing listing = services.catalog().read(job.name(), w -> { });
        if (!listing.unreadable().isEmpty() || !listing.skipped().isEmpty()) {
            return Set.of();
        }
        LogArchive.Reader reader = archive.reader();
        List<io.stowage.retention.Planner.Backup> backups = listing.entries().stream()
                .map(e -> new io.stowage.retention.Planner.Backup(e.id(), e.manifest().type(), e.manifest().parent(),
                        e.manifest().started(), e.manifest().finished(), e.pinned(), false,
                        reader.needsLog(e.manifest()))).toList();
        io.stowage.retention.Planner.Plan plan = io.stowage.retention.Planner.plan(rules, backups,
                java.time.Instant.now());
        if (plan.logFrom() == null) {
            return Set.of();
        }
        Map<String, Manifest> byId = new HashMap<>();
        listing.entries().forEach(e -> byId.put(e.id(), e.manifest()));
        return new HashSet<>(reader.releasable(new ArrayList<>(objects), plan.logKept().stream()
                .map(b -> byId.get(b.id())).toList(), byId.get(plan.logFrom().id())));
    }

    /** Manifests read for retention decisions, by {@code job/id}: a backup's manifest never changes. */
    private final Map<String, Manifest> manifests = new HashMap<>();

    /**
     * The backups of {@code all} that the retention policy of {@code job} in repository {@code target} would release
     * if the repository held every one of them: never copied there (expiry would remove them again). Empty when the
     * job has no policy there, or when a manifest cannot be read (then everything is copied).
     */
    private Set<String> released(Job job, String target, Set<String> all, Map<String, Set<String>> holds) {
        io.stowage.retention.Planner.Rules rules = io.stowage.retention.Expiry.rules(job, target, services.settings());
        if (!rules.any() || all.isEmpty()) {
            return Set.of();
        }
        List<io.stowage.retention.Planner.Backup> backups = new ArrayList<>();
        LogArchive.Reader reader = services.engines().get(job.engine()).logArchive().map(LogArchive::reader)
                .orElse(null);
        for (String id : all) {
            Manifest manifest = manifest(job, id, holds);
            if (manifest == null) {
                return Set.of();
            }
            backups.add(new io.stowage.retention.Planner.Backup(id, manifest.type(), manifest.parent(),
                    manifest.started(), manifest.finished(), false, false, reader != null && reader.needsLog(manifest)));
        }
        manifests.keySet().removeIf(k -> k.startsWith(job.name() + "/")
                && !all.contains(k.substring(job.name().length() + 1)));
        Set<String> released = new HashSet<>();
        io.stowage.retention.Planner.plan(rules, backups, java.time.Instant.now()).released()
                .forEach(b -> released.add(b.id()));
        return released;
    }

    /** The manifest of backup {@code id}, from the first repository holding it that can be read; null if none. */
    private Manifest manifest(Job job, String id, Map<String, Set<String>> holds) {
        String key = job.name() + "/" + id;
        Manifest cached = manifests.get(key);
        if (cached != null) {
            return cached;
        }
        for (Map.Entry<String, Set<String>> held : holds.entrySet()) {
            if (!held.getValue().contains(id)) {
                continue;
            }
            try (InputStream in = quiet(services.repositories().get(held.getKey()))
                    .open(Catalog.manifestKey(job.name(), id))) {
                Manifest manifest = ManifestCodec.read(in, "'" + Catalog.manifestKey(job.name(), id) + "'", details);
                manifests.put(key, manifest);
                return manifest;
            } catch (IOException | RuntimeException e) {
                LOG.debug("manifest of backup {} of job {} not readable in {}: {}", id, job.name(), held.getKey(),
                        Failures.describe(e));
            }
        }
        return null;
    }

    private static Set<String> ofJob(Set<String> known, String job) {
        Set<String> ids = new HashSet<>();
        known.stream().filter(k -> k.startsWith(job + "/")).forEach(k -> ids.add(k.substring(job.length() + 1)));
        return ids;
    }

    /** The ids of the job's backups complete in {@code repository} (with their manifest). */
    private Set<String> completeBackups(Repository repository, String job) throws IOException {
        List<String> children = quiet(repository).children(job + "/");
        Set<String> known = complete.computeIfAbsent(repository.name(), n -> new HashSet<>());
        Set<String> found = new TreeSet<>();
        Set<String> listed = new HashSet<>();
        for (String child : children) {
            String id = child.endsWith("/") ? child.substring(0, child.length() - 1) : null;
            if (id == null || !BackupId.isValid(id)) {
                continue;
            }
            listed.add(id);
            if (known.contains(job + "/" + id) || repository.exists(Catalog.manifestKey(job, id))) {
                found.add(id);
                known.add(job + "/" + id);
            }
        }
        known.removeIf(k -> k.startsWith(job + "/") && !listed.contains(k.substring(job.length() + 1)));
        return found;
    }

    /**
     * Copies one backup to {@code target} from the first of {@code sources} whose copy proves sound, holding the
     * job's lock for that copy only (taken without waiting: while a backup of the job runs, it waits for the next
     * round).
     */
    private boolean copyBackup(Job job, String id, Repository target, List<String> sources,
                               Set<String> downThisRound, Report report) {
        String what = "backup " + id + " of job " + job.name();
        Optional<? extends AutoCloseable> held;
        try {
            held = locks.tryLock(job.name());
        } catch (IOException | RuntimeException e) {
            report.failures.add(what + " could not be copied to repository '" + target.name() + "': cannot take the "
                    + "job's lock: " + Failures.describe(e));
            return false;
        }
        if (held.isEmpty()) {
            LOG.debug("{}: its copy to {} is left for the next round: a backup of the job is running", what,
                    target.name());
            report.failures.add(what + " could not be copied to repository '" + target.name() + "': a backup of "
                    + "job '" + job.name() + "' is running; the copy is made on the next round");
            return false;
        }
        try (AutoCloseable lock = held.get()) {
            return copyBackupLocked(job, id, target, sources, downThisRound, report);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            LOG.warn("job {}: cannot release its lock: {}", job.name(), Failures.describe(e));
            return complete.getOrDefault(target.name(), Set.of()).contains(job.name() + "/" + id);
        }
    }

    private boolean copyBackupLocked(Job job, String id, Repository target, List<String> sources,
                                     Set<String> downThisRound, Report report) {
        String what = "backup " + id + " of job " + job.name();
        List<String> why = new ArrayList<>();
        for (String sourceName : sources) {
            if (downThisRound.contains(target.name())) {
                break;
            }
            if (downThisRound.contains(sourceName)) {
                continue;
            }
            Repository source = services.repositories().get(sourceName);
            try {
                copyBackup(job, id, source, target);
                LOG.info("backup {} of job {} copied to repository {} (caught up)", id, job.name(), target.name());
                report.copied.add(what + " copied to repository '" + target.name() + "' from '" + sourceName + "'");
                return true;
            } catch (VerifiedCopy.Damaged e) {
                why.add(e.getMessage());
                if (warnedDamaged.add(sourceName + "/" + job.name() + "/" + id)) {
                    LOG.warn("{} cannot be copied from repository {} to repository {}: {}", what, sourceName,
                            target.name(), e.getMessage());
                }
            } catch (VerifiedCopy.SourceFailed e) {
                why.add(e.getMessage());
                if (unanswered(e)) {
                    failed(source, e, downThisRound);
                } else if (warnedDamaged.add(sourceName + "/" + job.name() + "/" + id)) {
                    // The repository answered, refusing this object (an archived storage class, a permission):
                    // that copy cannot be read, the repository stays usable for the round's other copies.
                    LOG.warn("{} cannot be copied from repository {} to repository {}: {}", what, sourceName,
                            target.name(), e.getMessage());
                }
            } catch (BadManifest e) {
                why.add(e.getMessage());
            } catch (IOException | RuntimeException e) {
                if (e instanceof io.stowage.Interruption.Interrupted stop) {
                    throw stop;
                }
                why.add(Failures.describe(e));
                failed(target, e, downThisRound);
            }
        }
        String line = what + " could not be copied to repository '" + target.name() + "': "
                + (why.isEmpty() ? "no repository holding it answers" : String.join("; ", why));
        report.failures.add(line);
        return false;
    }

    /** A manifest that cannot be used: the backup is not copied from that repository. */
    private static final class BadManifest extends StowageException {
        BadManifest(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private void copyBackup(Job job, String id, Repository source, Repository target) throws IOException {
        String manifestKey = Catalog.manifestKey(job.name(), id);
        byte[] manifestBytes;
        Manifest manifest;
        try (InputStream in = source.open(manifestKey)) {
            manifestBytes = in.readNBytes(16 << 20);
        } catch (ObjectNotFoundException e) {
            // Removed since the listing: that copy of the backup is gone, the repository answers.
            throw new BadManifest("manifest '" + manifestKey + "' is no longer in repository '" + source.name()
                    + "'", e);
        } catch (IOException | RuntimeException e) {
            throw new VerifiedCopy.SourceFailed(source, manifestKey, e);
        }
        try {
            manifest = ManifestCodec.read(new ByteArrayInputStream(manifestBytes), "'" + manifestKey + "' in "
                    + "repository '" + source.name() + "'", details);
        } catch (IOException | RuntimeException e) {
            throw new BadManifest(Failures.describe(e), e);
        }
        if (!id.equals(manifest.id()) || !job.name().equals(manifest.job())) {
            throw new BadManifest("manifest '" + manifestKey + "' in repository '" + source.name() + "' describes "
                    + "backup " + manifest.id() + " of job '" + manifest.job() + "'", null);
        }
        String prefix = job.name() + "/" + id + "/";
        // The job's lock is held: whatever temporary objects are there are from interrupted writes.
        target.cleanUpInterruptedWrites(prefix);
        String storageClass = job.parameters().get("storageClass");
        for (Manifest.StoredObject object : manifest.objects()) {
            VerifiedCopy.copy(source, target, prefix + object.name(), object.sha256(), storageClass);
        }
        // The records of its verifications, so that list shows the same wherever it is read.
        List<String> keys;
        try {
            keys = source.list(prefix);
        } catch (IOException | RuntimeException e) {
            throw new VerifiedCopy.SourceFailed(source, prefix, e);
        }
        for (String key : keys) {
            String file = key.substring(prefix.length());
            if (file.matches("verified-\\d{8}T\\d{6}Z\\.json")) {
                VerifiedCopy.copy(source, target, key, null, null);
            }
        }
        target.write(manifestKey, out -> out.write(manifestBytes));
    }

    // ---------------------------------------------------------------- log archives

    private void logs(Job job, LogArchive archive, List<Repository> repositories, Options options,
                      Set<String> downThisRound, Report report) {
        String prefix = job.name() + "/" + archive.directory() + "/";
        Map<String, Set<String>> listed = new LinkedHashMap<>();
        for (Repository repository : repositories) {
            if (downThisRound.contains(repository.name())) {
                continue;
            }
            try {
                listed.put(repository.name(), new HashSet<>(quiet(repository).list(prefix)));
                answered(repository);
            } catch (IOException | RuntimeException e) {
                failed(repository, e, downThisRound);
            }
        }
        // A log file counts where its object is there with its checksum file (or, for files archived before
        // checksum files existed, where no repository has one).
        Set<String> withChecksum = new HashSet<>();
        Set<String> objects = new TreeSet<>();
        for (Set<String> keys : listed.values()) {
            for (String key : keys) {
                if (key.endsWith(ChecksumFiles.EXTENSION)) {
                    withChecksum.add(key.substring(0, key.length() - ChecksumFiles.EXTENSION.length()));
                } else if (key.indexOf('/', prefix.length()) < 0) {
                    objects.add(key);
                }
            }
        }
        Set<String> spooled = spooled(job);
        for (Repository target : repositories) {
            String name = target.name();
            if (!listed.containsKey(name) || (options.repository() != null && !options.repository().equals(name))) {
                continue;
            }
            Set<String> here = listed.get(name);
            Set<String> released = releasedLog(job, archive, name, objects);
            List<String> lacking = new ArrayList<>();
            for (String key : objects) {
                if (released.contains(key)) {
                    continue; // the repository's retention no longer keeps it: expiry would remove it again
                }
                boolean checksummed = withChecksum.contains(key);
                boolean there = here.contains(key) && (!checksummed || here.contains(key + ChecksumFiles.EXTENSION));
                // A file still in the spool is the log route's to ship, to every repository.
                if (!there && !isSpooled(key.substring(prefix.length()), spooled)) {
                    lacking.add(key);
                }
            }
            if (lacking.isEmpty()) {
                count(report.missingLogs, job.name(), name, 0);
                continue;
            }
            String what = lacking.size() + " log file(s) of job " + job.name() + " ("
                    + lacking.get(0).substring(prefix.length()) + (lacking.size() > 1 ? " to "
                    + lacking.get(lacking.size() - 1).substring(prefix.length()) : "") + ")";
            if (options.dryRun()) {
                count(report.missingLogs, job.name(), name, lacking.size());
                report.missing.add(what + " missing in repository '" + name + "'");
                continue;
            }
            int copied = 0;
            List<String> failed = new ArrayList<>();
            for (String key : lacking) {
                if (downThisRound.contains(name)) {
                    failed.add(key.substring(prefix.length()) + ": repository '" + name + "' does not answer");
                    continue;
                }
                String problem = copyLog(key, withChecksum.contains(key), target, listed, downThisRound);
                if (problem == null) {
                    copied++;
                } else {
                    failed.add(problem);
                }
            }
            if (copied > 0) {
                LOG.info("{} log file(s) of job {} copied to repository {} (caught up)", copied, job.name(), name);
                report.copied.add(copied + " log file(s) of job " + job.name() + " copied to repository '" + name + "'");
            }
            count(report.missingLogs, job.name(), name, failed.size());
            if (!failed.isEmpty()) {
                report.failures.add(failed.size() + " log file(s) of job " + job.name() + " could not be copied to "
                        + "repository '" + name + "': " + failed.get(0) + (failed.size() > 1 ? "; ..." : ""));
            }
        }
    }

    /** Copies one log file (object, then checksum file) to {@code target}; null, or why it could not. */
    private String copyLog(String key, boolean checksummed, Repository target, Map<String, Set<String>> listed,
                           Set<String> downThisRound) {
        List<String> why = new ArrayList<>();
        for (Map.Entry<String, Set<String>> holder : listed.entrySet()) {
            Set<String> keys = holder.getValue();
            if (holder.getKey().equals(target.name()) || downThisRound.contains(holder.getKey())
                    || !keys.contains(key) || (checksummed && !keys.contains(key + ChecksumFiles.EXTENSION))) {
                continue;
            }
            Repository source = services.repositories().get(holder.getKey());
            try {
                String sha256 = checksummed ? checksum(source, key + ChecksumFiles.EXTENSION) : null;
                VerifiedCopy.copy(source, target, key, sha256, null);
                if (checksummed) {
                    String name = key.substring(key.lastIndexOf('/') + 1);
                    byte[] line = ChecksumFiles.line(sha256, name).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    target.write(key + ChecksumFiles.EXTENSION, out -> out.write(line));
                }
                return null;
            } catch (VerifiedCopy.Damaged e) {
                why.add(e.getMessage());
                if (warnedDamaged.add(holder.getKey() + "/" + key)) {
                    LOG.warn("log file {} cannot be copied from repository {}: {}", key, holder.getKey(),
                            e.getMessage());
                }
            } catch (VerifiedCopy.SourceFailed | ObjectNotFoundException e) {
                why.add(e.getMessage());
                if (!(e instanceof ObjectNotFoundException) && unanswered(e)) {
                    failed(source, e, downThisRound);
                }
            } catch (StowageException e) {
                if (e instanceof io.stowage.Interruption.Interrupted stop) {
                    throw stop;
                }
                why.add(Failures.describe(e));
                if (e instanceof io.stowage.repository.RepositoryException) {
                    failed(target, e, downThisRound);
                    break;
                }
            } catch (IOException | RuntimeException e) {
                why.add(Failures.describe(e));
                failed(target, e, downThisRound);
                break;
            }
        }
        return key + ": " + (why.isEmpty() ? "no repository holding it answers" : String.join("; ", why));
    }

    /** The SHA-256 in the source's checksum file; a failure to read it is the source's. */
    private static String checksum(Repository source, String key) throws IOException {
        try {
            return ChecksumFiles.read(source, key);
        } catch (ObjectNotFoundException e) {
            throw e;
        } catch (IOException | io.stowage.repository.RepositoryException e) {
            throw new VerifiedCopy.SourceFailed(source, key, e);
        }
    }

    /** The names in the job's log spool (the log route's {@code spool}), when this host has it. */
    private Set<String> spooled(Job job) {
        String spool = services.context(w -> { }).logArchiveParameters(job).get("spool");
        if (spool == null || spool.isBlank()) {
            return Set.of();
        }
        Set<String> names = new HashSet<>();
        try (var files = Files.list(Path.of(spool))) {
            files.forEach(f -> names.add(f.getFileName().toString()));
        } catch (IOException | RuntimeException e) {
            // not on this host, or not readable: nothing known to be in flight
        }
        return names;
    }

    /** Whether a stored log object ({@code <spooled name>.<codec>[.age]}) is of a file still in the spool. */
    private static boolean isSpooled(String objectName, Set<String> spooled) {
        for (int dot = objectName.indexOf('.'); dot > 0; dot = objectName.indexOf('.', dot + 1)) {
            if (spooled.contains(objectName.substring(0, dot))) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- repositories' state

    /**
     * The repository for the first call of a round: while it is known not to answer, its driver, called once without
     * the retry layer, so that an outage costs one warning however many rounds it lasts, not the retries' warnings
     * every round.
     */
    private Repository quiet(Repository repository) {
        return down.containsKey(repository.name()) ? repository.unwrap() : repository;
    }

    /**
     * Whether a failure says the repository does not answer (a timeout, a refused or lost connection, a server
     * error: worth waiting for), rather than that it answered and refused one object (4xx: an archived storage
     * class, a permission), which concerns that object only.
     */
    static boolean unanswered(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.stowage.repository.RepositoryTimeoutException) {
                return true;
            }
            if (t != failure && t instanceof io.stowage.repository.RepositoryException re) {
                return re.isTransient();
            }
        }
        return true; // a connection-level failure (a read cut or timed out mid-object)
    }

    private void answered(Repository repository) {
        String was = down.remove(repository.name());
        if (was != null) {
            LOG.info("repository {} answers again: copies it lacks are caught up", repository.name());
            forceLogs = true;
            cameBack = true;
        }
    }

    private void failed(Repository repository, Throwable e, Set<String> downThisRound) {
        if (e instanceof io.stowage.Interruption.Interrupted stop) {
            throw stop;
        }
        downThisRound.add(repository.name());
        String reason = Failures.describe(e);
        if (down.putIfAbsent(repository.name(), reason) == null) {
            LOG.warn("repository {} does not answer ({}): copies to and from it wait until it does", repository.name(),
                    reason);
        }
    }

    private static void count(Map<String, Map<String, Integer>> counts, String job, String repository, int n) {
        counts.computeIfAbsent(job, j -> new TreeMap<>()).put(repository, n);
    }
}
