package io.stowage.services;

import io.stowage.Failures;
import io.stowage.alert.AlertSettings;
import io.stowage.alert.AlertState;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.Catalog;
import io.stowage.job.JobRegistry;
import io.stowage.metrics.BackupMetrics;
import io.stowage.repository.Repositories;
import io.stowage.schedule.ScheduleService;
import org.apache.camel.Exchange;

/**
 * What route steps and commands share, bound in Camel's registry as {@value #BEAN}: the jobs the routes define,
 * the repositories, the catalog over them, metrics, the audit log and alerting.
 */
public final class StowageServices implements io.stowage.schedule.ScheduleContext {
    public static final String BEAN = "stowage";
    /** Header naming what started a backup: {@code command}, {@code schedule} or {@code catch-up}. */
    public static final String TRIGGER_HEADER = "StowageTrigger";
    /** Exchange property: the backup's own failure, set by {@code stowage:outcome}; absent after a success. */
    public static final String FAILURE_PROPERTY = "StowageFailure";
    /** Exchange property: lines about alerts a backup command could not send, for it to print as warnings. */
    public static final String ALERT_WARNINGS_PROPERTY = "StowageAlertWarnings";

    private final Repositories repositories;
    private final io.stowage.engine.Engines engines;
    private final Catalog catalog;
    private final AuditLog audit;
    private final AlertSettings alertSettings;
    private final AlertState alertState;
    private final io.stowage.alert.AlertOutbox alertOutbox;
    private final int retryAttempts;
    private volatile BackupMetrics metrics = new BackupMetrics(null);
    private volatile io.stowage.crypto.AgeKeys encryption = io.stowage.crypto.AgeKeys.none();
    private volatile io.stowage.config.Settings settings = io.stowage.config.Settings.defaults();
    private volatile java.nio.file.Path scratchRoot = java.nio.file.Path.of(System.getProperty("java.io.tmpdir"),
            "stowage-scratch");
    private volatile JobRegistry jobs;
    private volatile java.util.Map<String, java.util.Map<String, String>> logArchives = java.util.Map.of();
    private volatile ScheduleService schedules;

    public StowageServices(Repositories repositories, io.stowage.engine.Engines engines) {
        this(repositories, engines, new AlertSettings(null, false, null, null), 1);
    }

    public StowageServices(Repositories repositories, io.stowage.engine.Engines engines, AlertSettings alertSettings,
                           int retryAttempts) {
        this.repositories = repositories;
        this.engines = engines;
        this.catalog = new Catalog(repositories.all(), detailsCheck(engines));
        this.audit = new AuditLog(repositories.home().root(),
                repositories.all().stream().filter(r -> !r.name().equals(repositories.home().name())).toList());
        this.alertSettings = alertSettings;
        this.alertState = new AlertState(repositories.home().root().resolve(".alerts.json"));
        this.alertOutbox = new io.stowage.alert.AlertOutbox(repositories.home().root().resolve(".alerts-outbox"));
        this.retryAttempts = Math.max(1, retryAttempts);
    }

    /**
     * The configured age keys: recipients (AGE_RECIPIENTS) or a passphrase (AGE_PASSPHRASE_FILE) for new backups,
     * and the identity file (AGE_IDENTITY_FILE) restores read. Nothing configured: backups are not encrypted.
     */
    public io.stowage.crypto.AgeKeys encryption() {
        return encryption;
    }

    /**
     * Where scratch restores lay out a physical backup and run a throwaway server ({@code stowage.scratch.path},
     * default {@code java.io.tmpdir/stowage-scratch}).
     */
    public java.nio.file.Path scratchRoot() {
        return scratchRoot;
    }

    public void scratchRoot(java.nio.file.Path root) {
        this.scratchRoot = root.toAbsolutePath().normalize();
    }

    public void encryption(io.stowage.crypto.AgeKeys keys) {
        this.encryption = keys;
    }

    /** The checked {@code stowage.*} settings of application.properties (their defaults where none is set). */
    public io.stowage.config.Settings settings() {
        return settings;
    }

    public void settings(io.stowage.config.Settings settings) {
        this.settings = settings;
    }

    /** What engines may use of these services, with the warnings of one command or task going to {@code warnings}. */
    public io.stowage.engine.EngineContext context(java.util.function.Consumer<String> warnings) {
        StowageServices services = this;
        java.util.Set<String> proved = java.util.concurrent.ConcurrentHashMap.newKeySet();
        return new io.stowage.engine.EngineContext() {
            @Override
            public void proved(io.stowage.repository.Repository repository, String key) {
                proved.add(repository.name() + "\u0000" + key);
            }

            @Override
            public boolean isProved(io.stowage.repository.Repository repository, String key) {
                return proved.contains(repository.name() + "\u0000" + key);
            }

            @Override
            public java.util.List<io.stowage.repository.Repository> repositories() {
                return services.repositories.all();
            }

            @Override
            public java.util.List<io.stowage.repository.Repository> repositories(io.stowage.job.Job job) {
                return services.repositories.forJob(job.name(), job.parameters().get("repositories"));
            }

            @Override
            public java.util.List<io.stowage.repository.Repository> logRepositories(io.stowage.job.Job job) {
                return services.logRepositories(job.name(),
                        services.logArchives.getOrDefault(job.name(), java.util.Map.of()).get("repositories"));
            }

            @Override
            public String readFrom() {
                return services.readFrom;
            }

            @Override
            public io.stowage.repository.LocalRepository home() {
                return services.repositories.home();
            }

            @Override
            public Catalog catalog() {
                return services.catalog;
            }

            @Override
            public io.stowage.crypto.AgeKeys encryption() {
                return services.encryption;
            }

            @Override
            public java.nio.file.Path scratchRoot() {
                return services.scratchRoot;
            }

            @Override
            public java.util.Map<String, String> logArchiveParameters(io.stowage.job.Job job) {
                return services.logArchives.getOrDefault(job.name(), java.util.Map.of());
            }

            @Override
            public long storeFile(io.stowage.job.Job job, String prefix, java.io.File file,
                                  io.stowage.pipeline.Codec codec, int level, boolean checksum)
                    throws java.io.IOException {
                return LogFiles.store(logRepositories(job), services.encryption, prefix, file, codec, level, checksum);
            }

            @Override
            public java.util.function.Consumer<String> warnings() {
                return warnings;
            }
        };
    }

    /** Each engine checks the details it wrote; a manifest of an engine this Stowage lacks is left as it is. */
    private static io.stowage.catalog.ManifestCodec.DetailsCheck detailsCheck(io.stowage.engine.Engines engines) {
        return manifest -> engines.has(manifest.engine()) ? engines.get(manifest.engine()).detailsProblem(manifest)
                : null;
    }

    /** The engines this Stowage has. */
    public io.stowage.engine.Engines engines() {
        return engines;
    }

    /**
     * The repositories a job's log goes to, in the configured order: those {@code named} names (comma-separated, the
     * log route's {@code repositories}); blank: those of the backup job called {@code job}.
     */
    public java.util.List<io.stowage.repository.Repository> logRepositories(String job, String named) {
        if (named != null && !named.isBlank()) {
            return repositories.forJob(job, named);
        }
        JobRegistry registry = jobs;
        if (registry != null && registry.all().stream().anyMatch(j -> j.name().equals(job))) {
            return repositories.forJob(job, registry.get(job).parameters().get("repositories"));
        }
        return repositories.all();
    }

    /** The parameters of each job's log-archive route, by job, as the loaded routes declare them. */
    public void logArchives(java.util.Map<String, java.util.Map<String, String>> archives) {
        this.logArchives = java.util.Map.copyOf(archives);
    }

    public Repositories repositories() {
        return repositories;
    }

    private volatile String readFrom;

    /** The repository restores read from ({@code restore --from}); null: the first holding a sound copy. */
    public String readFrom() {
        return readFrom;
    }

    /** Sets {@link #readFrom()}; a usage error for a repository that is not configured. */
    public void readFrom(String repository) {
        if (repository != null) {
            repositories.get(repository);
        }
        this.readFrom = repository;
    }

    @Override
    public Catalog catalog() {
        return catalog;
    }

    /**
     * The catalog of the local repositories only (local disks, NAS mounts): what can be read at once, whatever a
     * remote repository does.
     */
    @Override
    public Catalog localCatalog() {
        java.util.List<io.stowage.repository.Repository> local = repositories.all().stream()
                .filter(r -> io.stowage.repository.Repositories.LOCAL.equals(repositories.attributes(r.name()).type()))
                .toList();
        return new Catalog(local, detailsCheck(engines));
    }

    @Override
    public Catalog firstCopies(java.util.Collection<String> jobNames) {
        java.util.Set<io.stowage.repository.Repository> firsts = new java.util.LinkedHashSet<>();
        for (String job : jobNames) {
            try {
                firsts.add(repositories.forJob(job, jobs().get(job).parameters().get("repositories")).get(0));
            } catch (RuntimeException e) {
                firsts.add(repositories.homeRepository());
            }
        }
        if (firsts.isEmpty()) {
            firsts.add(repositories.homeRepository());
        }
        return new Catalog(java.util.List.copyOf(firsts), detailsCheck(engines));
    }

    public AuditLog audit() {
        return audit;
    }

    public AlertSettings alertSettings() {
        return alertSettings;
    }

    public AlertState alertState() {
        return alertState;
    }

    /** Alerts waiting to be sent (Slack or PagerDuty could not be reached), beside the alert state. */
    public io.stowage.alert.AlertOutbox alertOutbox() {
        return alertOutbox;
    }

    public BackupMetrics metrics() {
        return metrics;
    }

    public void metrics(BackupMetrics metrics) {
        this.metrics = metrics;
    }

    public JobRegistry jobs() {
        if (jobs == null) {
            throw new IllegalStateException("jobs are known once the routes are loaded");
        }
        return jobs;
    }

    public void jobs(JobRegistry jobs) {
        this.jobs = jobs;
    }

    public ScheduleService schedules() {
        return schedules;
    }

    /** Replaces the schedule service (tests give it a clock they control). */
    public void schedules(ScheduleService schedules) {
        this.schedules = schedules;
    }

    /** For route filters: {@code ${bean:stowage?method=isConfigured('s3')}}. */
    public boolean isConfigured(String repository) {
        return repositories.isConfigured(repository);
    }

    /**
     * The retry policy of the run-backup route ({@code retryWhile}): scheduled backups are tried up to
     * {@code stowage.retry.attempts} times when the failure may pass; a backup run from the command line, and a
     * failure that stays (a wrong password, bad configuration), is not retried.
     */
    public boolean shouldRetry(Exchange exchange) {
        Throwable failure = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (failure == null || "command".equals(exchange.getIn().getHeader(TRIGGER_HEADER, String.class))) {
            return false;
        }
        // Attempts so far, as counted by stowage:begin (a failure before begin counts as one attempt).
        int attempts = Math.max(1, exchange.getProperty("StowageAttempts", 1, Integer.class));
        return Failures.isTransient(failure) && attempts < retryAttempts;
    }
}
