package io.stowage.retention;

import io.stowage.Failures;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.CatalogListing;
import io.stowage.catalog.IncompleteBackup;
import io.stowage.catalog.Manifest;
import io.stowage.engine.LogArchive;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage expire} and the service's expiry: for each job and each repository, the {@link Planner}'s plan,
 * carried out. Deletion order makes a crash harmless: dependents before what they depend on (newest first), and for
 * each backup its manifest first (the backup leaves the catalog at once), then its other objects; an interrupted
 * expiry leaves a directory without a manifest, which the next one removes as an orphan. Then the log objects no kept
 * backup needs (the engine says which), then orphans: backup directories without a manifest older than
 * {@code stowage.expire.incomplete-after-hours}.
 *
 * <p>A job is expired holding its lock (no backup of it runs meanwhile, and the catch-up copies none of its backups),
 * waited for up to {@code stowage.expire.lock-wait-seconds}; a repository that cannot be listed is left alone, and a
 * failure part-way leaves what was deleted deleted and nothing listed broken: the next run finishes.
 */
public final class Expiry {
    private static final Logger LOG = LoggerFactory.getLogger(Expiry.class);
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

    /** Takes a job's lock, waiting up to {@code wait}; empty when a backup of the job still holds it then. */
    @FunctionalInterface
    public interface JobLocks {
        Optional<AutoCloseable> lock(String job, Duration wait) throws IOException, InterruptedException;
    }

    /** {@code job}, {@code repository}: only those (null: every one); {@code dryRun}: plan and delete nothing. */
    public record Options(String job, String repository, boolean dryRun) {
    }

    /** What became of a backup: kept; would expire (a dry run); deleted; its deletion failed; not tried after that. */
    public enum Outcome {
        KEPT("keep"), WOULD_EXPIRE("expire"), GONE("gone"), FAILED("failed"), LEFT("left");

        private final String word;

        Outcome(String word) {
            this.word = word;
        }

        /** The word the expire table prints. */
        public String word() {
            return word;
        }
    }

    /**
     * One backup's fate in one repository: the planner's decision, and what was done; {@code note}: why the
     * repository cannot restore it (objects missing, or its log not in the archive), null when it can.
     */
    public record Row(String job, String repository, Planner.Decision decision, Outcome outcome, String note) {
    }

    /** What a run decided and did. */
    public static final class Report {
        private final List<Row> rows = new ArrayList<>();
        private final List<String> lines = new ArrayList<>();
        private final List<String> failures = new ArrayList<>();
        private final List<String> skipped = new ArrayList<>();
        private int expired;
        private long logObjects;
        private int orphans;

        public List<Row> rows() {
            return rows;
        }

        /** What was (or, in a dry run, would be) done besides the backups: log objects, orphans, per repository. */
        public List<String> lines() {
            return lines;
        }

        public List<String> failures() {
            return failures;
        }

        /** Jobs not expired because a backup of theirs held the lock for too long. */
        public List<String> skipped() {
            return skipped;
        }

        public int expired() {
            return expired;
        }

        public long logObjects() {
            return logObjects;
        }

        public int orphans() {
            return orphans;
        }
    }

    private final StowageServices services;
    private final JobLocks locks;
    private final Clock clock;

    public Expiry(StowageServices services, JobLocks locks, Clock clock) {
        this.services = services;
        this.locks = locks;
        this.clock = clock;
    }

    /**
     * The lock that keeps {@code pin}, {@code unpin} and expiry of a job apart ({@code <home>/<job>/.retention.lock}),
     * waited for up to {@code wait}; empty when still held then. Without it a pin written while expiry deletes the
     * same backup could report a pin on a backup that is gone the next moment. (A backup does not take it: pinning
     * never waits for a backup.)
     */
    public static Optional<io.stowage.lock.ExclusiveLock> pinLock(StowageServices services, String job, Duration wait)
            throws IOException, InterruptedException {
        java.nio.file.Path dir = services.repositories().home().root().resolve(job);
        java.nio.file.Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        return io.stowage.lock.ExclusiveLock.acquire(dir.resolve(".retention.lock"), wait);
    }

    /**
     * The rules of {@code job} in {@code repository}: the job's {@code retention} parameter, else the repository's
     * {@code stowage.repository.<name>.retention}; with the job's {@code retentionDiff}, {@code retentionIncr} and
     * {@code logRetention}.
     */
    public static Planner.Rules rules(Job job, String repository, io.stowage.config.Settings settings) {
        Optional<io.stowage.config.RetentionPolicy> own = job.retention();
        String property = "stowage.repository." + repository + ".retention";
        io.stowage.config.RetentionPolicy policy = own.orElse(settings.text(property)
                .map(io.stowage.config.RetentionPolicy::parse).orElse(null));
        String source = own.isPresent() ? "job parameter retention" : property;
        return new Planner.Rules(policy, boxed(job.retentionDays("retentionDiff")),
                boxed(job.retentionDays("retentionIncr")), boxed(job.retentionDays("logRetention")), source);
    }

    private static Integer boxed(java.util.OptionalInt value) {
        return value.isPresent() ? value.getAsInt() : null;
    }

    /** A catalog entry as the planner sees it in {@code repository}. */
    public static Planner.Backup view(CatalogEntry entry, String repository, LogArchive.Reader reader) {
        Manifest m = entry.manifest();
        return new Planner.Backup(m.id(), m.type(), m.parent(), m.started(), m.finished(), entry.pinned(),
                entry.damagedIn(repository), reader != null && reader.needsLog(m));
    }

    /**
     * The plan of {@code job} in {@code repository}, from a catalog listing of the job: the backups the repository
     * holds, and the chains of those it lacks that other repositories hold, so that a chain with a backup missing here
     * still keeps what it depends on here.
     */
    public Planner.Plan plan(Job job, Repository repository, List<CatalogEntry> entries, Instant now) {
        return plan(job, repository, entries, holdings(job, entries), reader(job), now);
    }

    /** Which backups of {@code job} each repository holds, by repository name. */
    private static Map<String, java.util.Set<String>> holdings(Job job, List<CatalogEntry> entries) {
        Map<String, java.util.Set<String>> holds = new java.util.HashMap<>();
        for (CatalogEntry e : entries) {
            if (e.job().equals(job.name())) {
                e.repositories().forEach(r -> holds.computeIfAbsent(r, k -> new java.util.HashSet<>()).add(e.id()));
            }
        }
        return holds;
    }

    /** The plan in {@code repository}, the chains of the backups it lacks known from those {@code holds} names. */
    private Planner.Plan plan(Job job, Repository repository, List<CatalogEntry> entries,
                              Map<String, java.util.Set<String>> holds, LogArchive.Reader reader, Instant now) {
        List<Planner.Backup> backups = new ArrayList<>();
        Map<String, String> elsewhere = new java.util.HashMap<>();
        for (CatalogEntry e : entries) {
            if (!e.job().equals(job.name())) {
                continue;
            }
            if (e.repositories().contains(repository.name())) {
                Planner.Backup backup = view(e, repository.name(), reader);
                if (backup.needsLog() && !backup.damaged() && !logArchived(reader, repository, e.manifest())) {
                    // Its log is not (yet) in this repository's archive (the log route is behind, or it was lost):
                    // the repository cannot restore it, so it is not what keeps the older backups from mattering.
                    backup = new Planner.Backup(backup.id(), backup.type(), backup.parent(), backup.started(),
                            backup.finished(), backup.pinned(), true, true);
                }
                backups.add(backup);
            } else if (holds.entrySet().stream().anyMatch(h -> !h.getKey().equals(repository.name())
                    && h.getValue().contains(e.id()))) {
                elsewhere.put(e.id(), e.manifest().parent());
            }
        }
        return Planner.plan(rules(job, repository.name(), services.settings()), backups, elsewhere, now);
    }

    /** Whether {@code repository}'s log archive holds all the log {@code backup} needs; false when it cannot tell. */
    private static boolean logArchived(LogArchive.Reader reader, Repository repository, Manifest backup) {
        try {
            return reader.missing(repository, backup).isEmpty();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The plans of {@code job} in {@code expiring}, the repositories this run expires. A chain through a backup a
     * repository lacks is followed as far as the other repositories hold it after this run, not before: when another
     * repository releases the only copy of that backup now, the chain is broken here too, as the next run would find
     * it. What each keeps depends on what the others keep, so the plans are made again until they agree.
     */
    private Map<String, Planner.Plan> plans(Job job, List<Repository> expiring, List<CatalogEntry> entries,
                                            LogArchive.Reader reader, Instant now) {
        Map<String, java.util.Set<String>> holds = holdings(job, entries);
        Map<String, Planner.Plan> plans = new java.util.LinkedHashMap<>();
        for (int round = 0; round < 10; round++) {
            plans.clear();
            Map<String, java.util.Set<String>> after = new java.util.HashMap<>(holds);
            for (Repository repository : expiring) {
                Planner.Plan plan = plan(job, repository, entries, holds, reader, now);
                plans.put(repository.name(), plan);
                java.util.Set<String> kept = new java.util.HashSet<>();
                plan.kept().forEach(b -> kept.add(b.id()));
                after.put(repository.name(), kept);
            }
            if (after.equals(holds)) {
                break;
            }
            holds = after;
        }
        return plans;
    }

    private LogArchive.Reader reader(Job job) {
        return services.engines().get(job.engine()).logArchive().map(LogArchive::reader).orElse(null);
    }

    public Report run(Options options) {
        Report report = new Report();
        if (options.repository() != null) {
            services.repositories().get(options.repository()); // an unknown name: a usage error
        }
        Collection<Job> jobs = options.job() == null ? services.jobs().all()
                : List.of(services.jobs().get(options.job()));
        long wait = services.settings().number("stowage.expire.lock-wait-seconds");
        for (Job job : jobs) {
            if (options.dryRun()) {
                expireJob(job, options, report);
                continue;
            }
            Optional<AutoCloseable> lock;
            try {
                lock = locks.lock(job.name(), Duration.ofSeconds(wait));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                report.failures.add("job " + job.name() + ": interrupted while waiting for its lock");
                return report;
            } catch (IOException | RuntimeException e) {
                report.failures.add("job " + job.name() + ": cannot take its lock: " + Failures.describe(e));
                continue;
            }
            if (lock.isEmpty()) {
                report.skipped.add("job " + job.name() + " not expired: a backup of it is running and did not finish "
                        + "within " + wait + " s (stowage.expire.lock-wait-seconds); the next expiry takes it");
                continue;
            }
            try (AutoCloseable held = lock.get()) {
                Optional<io.stowage.lock.ExclusiveLock> pins = pinLock(services, job.name(), Duration.ofSeconds(wait));
                if (pins.isEmpty()) {
                    report.skipped.add("job " + job.name() + " not expired: a 'stowage pin' or 'unpin' of it held its"
                            + " lock for more than " + wait + " s; the next expiry takes it");
                    continue;
                }
                try (io.stowage.lock.ExclusiveLock pinned = pins.get()) {
                    expireJob(job, options, report);
                }
            } catch (Exception e) {
                report.failures.add("job " + job.name() + ": " + Failures.describe(e));
            }
        }
        return report;
    }

    private void expireJob(Job job, Options options, Report report) {
        Instant now = clock.instant();
        List<String> warnings = new ArrayList<>();
        CatalogListing listing = services.catalog().read(job.name(), warnings::add);
        List<Repository> expiring = new ArrayList<>();
        for (Repository repository : services.repositories().all()) {
            if (options.repository() != null && !options.repository().equals(repository.name())) {
                continue;
            }
            if (listing.skipped().contains(repository.name())) {
                String why = warnings.stream().filter(w -> w.startsWith("repository '" + repository.name() + "'"))
                        .findFirst().orElse("it cannot be listed");
                report.failures.add("job " + job.name() + " in repository '" + repository.name() + "': not expired, "
                        + why);
                continue;
            }
            expiring.add(repository);
        }
        LogArchive.Reader reader = reader(job); // one listing of each repository's log archive for the whole run
        Map<String, Planner.Plan> plans;
        try {
            plans = plans(job, expiring, listing.entries(), reader, now);
        } catch (RuntimeException e) {
            expiring.forEach(r -> report.failures.add("job " + job.name() + " in repository '" + r.name() + "': "
                    + Failures.describe(e)));
            return;
        }
        for (Repository repository : expiring) {
            String where = "job " + job.name() + " in repository '" + repository.name() + "'";
            try {
                expireIn(job, repository, listing, plans.get(repository.name()), reader, options.dryRun(), now,
                        report);
            } catch (IOException | RuntimeException e) {
                report.failures.add(where + ": " + Failures.describe(e) + "; what was deleted stays deleted, the next "
                        + "expiry finishes");
                LOG.warn("expiry of {} failed: {}", where, Failures.describe(e));
            }
        }
    }

    private void expireIn(Job job, Repository repository, CatalogListing listing, Planner.Plan plan,
                          LogArchive.Reader reader, boolean dryRun, Instant now, Report report) throws IOException {
        String name = repository.name();
        // What became of each backup, said only once it is so: a deletion that fails leaves the older ones untried.
        Map<String, Outcome> outcomes = new java.util.HashMap<>();
        try {
            // Dependents before what they depend on: newest first.
            List<Planner.Backup> released = new ArrayList<>(plan.released());
            java.util.Collections.reverse(released);
            for (Planner.Backup backup : released) {
                if (dryRun) {
                    outcomes.put(backup.id(), Outcome.WOULD_EXPIRE);
                    continue;
                }
                Instant started = clock.instant();
                try {
                    deleteBackup(repository, job.name(), backup.id());
                } catch (IOException | RuntimeException e) {
                    outcomes.put(backup.id(), Outcome.FAILED);
                    services.audit().record(new AuditLog.Entry("expire", job.name(), backup.id(), "failure",
                            Duration.between(started, clock.instant()), name + ": " + Failures.describe(e)));
                    throw e;
                }
                outcomes.put(backup.id(), Outcome.GONE);
                report.expired++;
                services.metrics().expired(job.name(), name);
                services.audit().record(new AuditLog.Entry("expire", job.name(), backup.id(), "success",
                        Duration.between(started, clock.instant()), null));
                LOG.info("expired backup {} of job {} in repository {}", backup.id(), job.name(), name);
            }
        } finally {
            java.util.Set<String> lacking = new java.util.HashSet<>();
            listing.entries().stream().filter(e -> e.job().equals(job.name()) && e.damagedIn(name))
                    .forEach(e -> lacking.add(e.id()));
            plan.decisions().forEach(d -> report.rows.add(new Row(job.name(), name, d, d.keep() ? Outcome.KEPT
                    : outcomes.getOrDefault(d.backup().id(), Outcome.LEFT), !d.backup().damaged() ? null
                    : lacking.contains(d.backup().id()) ? "damaged: objects missing here"
                    : "its log is not in this repository's archive (yet)")));
        }
        expireLog(job, repository, listing, plan, reader, dryRun, report);
        removeOrphans(job, repository, listing, dryRun, now, report);
        if (!dryRun) {
            measure(job, repository, listing, plan);
        }
    }

    /** The manifest first (the backup leaves the catalog), then everything else in the backup's directory. */
    private static void deleteBackup(Repository repository, String job, String id) throws IOException {
        repository.delete(Catalog.manifestKey(job, id));
        repository.delete(repository.list(job + "/" + id + "/"));
    }

    private void expireLog(Job job, Repository repository, CatalogListing listing, Planner.Plan plan,
                           LogArchive.Reader reader, boolean dryRun, Report report) throws IOException {
        Optional<LogArchive> archive = services.engines().get(job.engine()).logArchive();
        if (archive.isEmpty() || plan.logFrom() == null) {
            return;
        }
        String where = job.name() + " in repository '" + repository.name() + "'";
        if (listing.unreadable().stream().anyMatch(u -> u.job().equals(job.name())
                && u.repository().equals(repository.name()))) {
            report.lines.add("log of " + where + " left as it is: a backup's manifest there cannot be read, so what "
                    + "it needs is unknown ('stowage check' names it)");
            return;
        }
        String prefix = job.name() + "/" + archive.get().directory() + "/";
        // The listing the plan was made from (one per repository and run): log shipped since is newer than anything
        // releasable, so it is never missed.
        List<String> keys = reader.archive(repository, job.name());
        Map<String, Manifest> manifests = new java.util.HashMap<>();
        listing.entries().stream().filter(e -> e.job().equals(job.name())).forEach(e -> manifests.put(e.id(),
                e.manifest()));
        List<Manifest> kept = plan.logKept().stream().map(b -> manifests.get(b.id())).toList();
        List<String> releasable = reader.releasable(keys, kept, manifests.get(plan.logFrom().id()));
        List<String> names = releasable.stream().map(k -> k.substring(prefix.length()))
                .filter(n -> !n.endsWith(io.stowage.repository.ChecksumFiles.EXTENSION)).toList();
        if (releasable.isEmpty()) {
            report.lines.add("log of " + where + ": nothing to expire; continuous from backup " + plan.logFrom().id());
            return;
        }
        String what = names.size() + " log file(s) of " + where + " (" + reader.describe(names) + ")";
        if (dryRun) {
            report.lines.add(what + " would expire; continuous from backup " + plan.logFrom().id());
            return;
        }
        Instant started = clock.instant();
        try {
            repository.delete(releasable);
        } catch (IOException | RuntimeException e) {
            services.audit().record(new AuditLog.Entry("expire-log", job.name(), null, "failure",
                    Duration.between(started, clock.instant()), repository.name() + ": " + Failures.describe(e)));
            throw e;
        }
        report.logObjects += releasable.size();
        report.lines.add(what + " expired; continuous from backup " + plan.logFrom().id());
        services.audit().record(new AuditLog.Entry("expire-log", job.name(), null, "success: " + names.size()
                + " log file(s) in " + repository.name(), Duration.between(started, clock.instant()), null));
        LOG.info("expired {}", what);
    }

    /**
     * Backup directories without a manifest whose id is older than {@code stowage.expire.incomplete-after-hours}:
     * no backup still running anywhere (on this host or another, which holds no lock here) started that long ago.
     */
    private void removeOrphans(Job job, Repository repository, CatalogListing listing, boolean dryRun, Instant now,
                               Report report) throws IOException {
        long hours = services.settings().number("stowage.expire.incomplete-after-hours");
        Instant before = now.minus(Duration.ofHours(hours));
        for (IncompleteBackup incomplete : listing.incomplete()) {
            if (!incomplete.job().equals(job.name()) || !incomplete.repository().equals(repository.name())
                    || !BackupId.isValid(incomplete.id())) {
                continue;
            }
            Instant started = LocalDateTime.parse(incomplete.id().substring(0, 16), ID_TIME).toInstant(ZoneOffset.UTC);
            String what = "incomplete backup " + incomplete.id() + " of job " + job.name() + " in repository '"
                    + repository.name() + "' (no manifest, " + incomplete.keys().size() + " object(s))";
            if (!started.isBefore(before)) {
                report.lines.add(what + " left: younger than " + hours + " h, it may still be written "
                        + "(stowage.expire.incomplete-after-hours)");
                continue;
            }
            if (dryRun) {
                report.lines.add(what + " would be removed");
                continue;
            }
            String directory = job.name() + "/" + incomplete.id() + "/";
            if (repository.exists(Catalog.manifestKey(job.name(), incomplete.id()))) {
                continue; // completed since the listing after all
            }
            repository.delete(repository.list(directory));
            report.orphans++;
            report.lines.add(what + " removed");
            services.audit().record(new AuditLog.Entry("expire", job.name(), incomplete.id(), "success: incomplete "
                    + "backup removed from " + repository.name(), null, null));
            LOG.info("removed {}", what);
        }
    }

    /** The gauges of what the repository now holds of the job. */
    private void measure(Job job, Repository repository, CatalogListing listing, Planner.Plan plan) {
        java.util.Set<String> kept = new java.util.HashSet<>();
        plan.kept().forEach(b -> kept.add(b.id()));
        long bytes = listing.entries().stream().filter(e -> e.job().equals(job.name()) && kept.contains(e.id()))
                .mapToLong(e -> e.manifest().storedBytes()).sum();
        services.metrics().storedBytes(repository.name(), job.name(), storageClass(job, repository), bytes);
        services.metrics().oldestRestorable(job.name(), repository.name(), oldestRestorable(plan));
    }

    /** The end of the oldest kept backup that is not damaged: the oldest point the repository restores. */
    public static Instant oldestRestorable(Planner.Plan plan) {
        return plan.kept().stream().filter(b -> !b.damaged()).map(Planner.Backup::finished).min(Instant::compareTo)
                .orElse(null);
    }

    private String storageClass(Job job, Repository repository) {
        String type = services.repositories().attributes(repository.name()).type();
        return type.equals("local") ? "local" : job.parameter("storageClass", "STANDARD");
    }
}
