package io.stowage.cli;

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
                failed |= !checkJob(runtime, job);
            }
            io.stowage.catalog.CatalogListing catalog = readCatalog(runtime);
            failed |= !catalog.unreadable().isEmpty();
            failed |= !checkDamaged(catalog);
            for (Job job : jobs) {
                boolean[] retentionFailed = {false};
                io.stowage.retention.RetentionCheck.report(runtime.services(), job, catalog.entries(),
                        report(retentionFailed));
                failed |= retentionFailed[0];
            }
            for (io.stowage.schedule.WalArchive archive : io.stowage.schedule.WalArchive.from(runtime.context())) {
                if (jobName == null || jobName.equals(archive.job())) {
                    failed |= !checkLogArchive(runtime, archive, catalog.entries());
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

    /** Backups whose manifest is there but whose objects are not all there: they cannot be restored from there. */
    private boolean checkDamaged(io.stowage.catalog.CatalogListing catalog) {
        boolean ok = true;
        for (io.stowage.catalog.CatalogEntry entry : catalog.entries()) {
            if (jobName != null && !jobName.equals(entry.job())) {
                continue;
            }
            for (java.util.Map.Entry<String, List<String>> damaged : new java.util.TreeMap<>(entry.missing())
                    .entrySet()) {
                ok = false;
                List<String> objects = damaged.getValue();
                out().println("FAIL  backup " + entry.id() + " of job " + entry.job() + " in repository "
                        + damaged.getKey() + " is damaged: " + objects.size() + " object(s) its manifest names are "
                        + "missing (" + String.join(", ", objects.subList(0, Math.min(3, objects.size())))
                        + (objects.size() > 3 ? ", ..." : "") + "); HINT: " + entry.repositories().stream()
                        .filter(r -> !entry.damagedIn(r)).findFirst().map(r -> "restore it with --from " + r
                                + ", which holds it whole; ").orElse("") + "expiry removes it by its policy only");
            }
        }
        return ok;
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
     * A job's log archive, in each repository: gaps since the oldest backup that needs the log, and each backup's own
     * log (what it needs to be consistent), which a gap scan cannot see when it has not been shipped yet; named. Then
     * the receiver the route asks for, if any.
     */
    private boolean checkLogArchive(StowageRuntime runtime, io.stowage.schedule.WalArchive archive,
                                    List<io.stowage.catalog.CatalogEntry> listed) {
        Job job = runtime.services().jobs().get(archive.job());
        io.stowage.engine.LogArchive log = runtime.services().engines().get(job.engine()).logArchive().orElseThrow();
        String what = log.directory() + " " + archive.job();
        String upper = log.directory().toUpperCase(java.util.Locale.ROOT);
        java.util.Optional<String> unusable = archive.spoolProblem(log.serviceFillsSpool(archive.parameters()));
        boolean ok = true;
        if (unusable.isPresent()) {
            out().println("FAIL  " + what + ": " + unusable.get());
            ok = false;
        } else try {
            io.stowage.engine.LogArchive.Reader reader = log.reader();
            io.stowage.schedule.WalArchive.SpoolState spool = archive.withLogFiles(log::isLogFile)
                    .spoolState(java.time.Instant.now());
            java.util.List<io.stowage.catalog.CatalogEntry> backups = listed.stream()
                    .filter(e -> e.job().equals(archive.job()) && reader.needsLog(e.manifest())).toList();
            String spoolText = spool.files() + " file(s), " + io.stowage.Sizes.human(spool.bytes()) + " waiting in "
                    + archive.spool();
            if (backups.isEmpty()) {
                out().println("ok    " + what + ": no physical backup yet; " + spoolText);
            } else {
                for (Repository repository : runtime.services().repositories().all()) {
                    boolean sound = true;
                    // The archive is continuous from where the retention plan keeps it (from the oldest backup
                    // without a policy); older kept backups need only their own log, checked below.
                    io.stowage.catalog.Manifest oldest = continuousFrom(runtime, job, repository, listed, backups);
                    if (oldest != null) {
                        java.util.List<String> gaps = reader.gaps(repository, archive.job(), oldest);
                        if (!gaps.isEmpty()) {
                            sound = false;
                            out().println("FAIL  " + what + " in " + repository.name() + ": gap at segment "
                                    + String.join(", ", gaps) + " (needed since backup " + oldest.id() + ")");
                        }
                    }
                    for (io.stowage.catalog.CatalogEntry backup : backups) {
                        if (!backup.repositories().contains(repository.name())) {
                            continue;
                        }
                        java.util.List<String> missing = reader.missing(repository, backup.manifest());
                        if (!missing.isEmpty()) {
                            sound = false;
                            long waiting = missing.stream().filter(s -> java.nio.file.Files.exists(archive.spool()
                                    .resolve(s))).count();
                            out().println("FAIL  " + what + " in " + repository.name() + ": backup " + backup.id()
                                    + " lacks " + upper + " segment(s) " + reader.describe(missing) + " and cannot be "
                                    + "restored from there; " + (waiting > 0 ? waiting + " of them wait in "
                                    + archive.spool() + "; HINT: start the service ('stowage run'), which ships them"
                                    : "they are not in " + archive.spool() + " either; HINT: restore it from another "
                                    + "repository that has them, or take a new backup"));
                        }
                    }
                    if (sound && backups.stream().anyMatch(b -> b.repositories().contains(repository.name()))) {
                        out().println("ok    " + what + " in " + repository.name() + ": "
                                + (oldest != null ? "no gap since "
                                + reader.firstNeeded(oldest) + " (backup " + oldest.id() + "), " : "")
                                + "every backup's own " + upper + " archived; " + spoolText);
                    }
                    ok &= sound;
                }
            }
        } catch (Exception e) {
            out().println("FAIL  " + what + ": " + io.stowage.Secrets.mask(e.getMessage()));
            ok = false;
        }
        boolean[] receiverFailed = {false};
        log.checkReceiver(job, archive.parameters(), runtime.services().context(this::warn),
                report(receiverFailed));
        return ok && !receiverFailed[0];
    }

    /**
     * Where the log archive of {@code job} in {@code repository} must be continuous from: the retention plan's
     * {@code logFrom} when the job has a policy there; otherwise the oldest backup needing log, when the repository
     * holds it; null when there is none.
     */
    private static io.stowage.catalog.Manifest continuousFrom(StowageRuntime runtime, Job job, Repository repository,
                                                              List<io.stowage.catalog.CatalogEntry> listed,
                                                              List<io.stowage.catalog.CatalogEntry> backups) {
        var services = runtime.services();
        if (io.stowage.retention.Expiry.rules(job, repository.name(), services.settings()).any()) {
            io.stowage.retention.Planner.Plan plan = new io.stowage.retention.Expiry(services,
                    (j, w) -> java.util.Optional.empty(), java.time.Clock.systemUTC())
                    .plan(job, repository, listed, java.time.Instant.now());
            if (plan.logFrom() == null) {
                return null;
            }
            return backups.stream().filter(b -> b.id().equals(plan.logFrom().id())).findFirst()
                    .map(io.stowage.catalog.CatalogEntry::manifest).orElse(null);
        }
        return backups.stream().filter(b -> b.repositories().contains(repository.name())).findFirst()
                .filter(b -> b == backups.get(0)).map(io.stowage.catalog.CatalogEntry::manifest).orElse(null);
    }

    private io.stowage.engine.CheckReport report(boolean[] failed) {
        return new io.stowage.engine.CheckReport() {
            @Override
            public void ok(String line) {
                out().println("ok    " + line);
            }

            @Override
            public void warn(String line) {
                out().println("WARN  " + line);
            }

            @Override
            public void fail(String line) {
                failed[0] = true;
                out().println("FAIL  " + line);
            }
        };
    }

    /** The job's engine reaches its server and reports, one line per finding. */
    private boolean checkJob(StowageRuntime runtime, Job job) {
        boolean[] failed = {false};
        io.stowage.engine.CheckReport report = report(failed);
        try {
            runtime.services().engines().get(job.engine()).check(job, runtime.services().context(this::warn), report);
        } catch (RuntimeException e) {
            report.fail("job " + job.describe() + ": " + io.stowage.Secrets.mask(e.getMessage()));
        }
        return !failed[0];
    }
}
