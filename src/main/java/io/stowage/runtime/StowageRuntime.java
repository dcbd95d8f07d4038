package io.stowage.runtime;
import io.stowage.config.RouteSources;
import io.stowage.services.StowageServices;

import io.stowage.StowageException;
import io.stowage.config.RouteDeclarations;
import io.stowage.config.Settings;
import io.stowage.job.JobRegistry;
import io.stowage.lock.ExclusiveLock;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repositories;
import io.stowage.repository.S3Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;
import org.apache.camel.spi.PropertiesComponent;

/**
 * Boots Camel for one command: reads the configuration file, binds the repositories and the catalog, loads the
 * routes in {@code routes/} beside the configuration file, and knows the jobs they define. Every command goes
 * through here, so {@code check}, {@code backup} and {@code restore} see exactly the configuration {@code run} sees.
 */
public final class StowageRuntime implements AutoCloseable {
    private final Main main;
    private final StowageServices services;
    /** The service's lock on its local repository; null for a command. */
    private final ExclusiveLock instance;

    private StowageRuntime(Main main, StowageServices services, ExclusiveLock instance) {
        this.main = main;
        this.services = services;
        this.instance = instance;
    }

    /** Starts Camel for a command: no schedules, no management server. */
    public static StowageRuntime start(Path configFile) {
        return start(configFile, false);
    }

    /**
     * Starts Camel for a command that does not need the schedule routes (backup, list, restore): they are left out
     * altogether, which spares the Quartz scheduler's start-up. {@code check} and {@code run} load every route.
     */
    public static StowageRuntime startLight(Path configFile) {
        return start(configFile, false, true);
    }

    /**
     * Starts Camel with the given configuration file and the routes beside it. With {@code service} (the run
     * command) the schedule and staleness routes start and the management server listens; otherwise they stay off,
     * so a command never fires a schedule or takes the service's port. A service first takes its local repository's
     * {@link InstanceLock} (released by {@link #releaseInstance}) and checks its management port, before anything
     * starts.
     */
    public static StowageRuntime start(Path configFile, boolean service) {
        return start(configFile, service, false);
    }

    private static StowageRuntime start(Path configFile, boolean service, boolean withoutSchedules) {
        Path config = configFile.toAbsolutePath().normalize();
        if (!Files.isRegularFile(config)) {
            throw StowageException.usage("configuration file " + config + " not found; HINT: run from the directory that"
                    + " holds application.properties or pass --config FILE");
        }
        Path routes = config.getParent().resolve("routes");
        if (!Files.isDirectory(routes)) {
            throw StowageException.usage("routes directory " + routes + " not found: it must sit beside " + config);
        }
        Main main = new Main() {
            @Override
            protected void configurePropertiesService(CamelContext context) throws Exception {
                // java.util.Properties reads Latin-1 unless told otherwise: a UTF-8 path with an accented letter
                // would name another directory, where backups would then go without a word.
                context.getPropertiesComponent().setEncoding(java.nio.charset.StandardCharsets.UTF_8.name());
                super.configurePropertiesService(context);
            }
        };
        main.setPropertyPlaceholderLocations("file:" + config);
        main.addOverrideProperty("stowage.service", Boolean.toString(service));
        main.addInitialProperty(RouteSources.DIRECTORY_PROPERTY, routes.toString());
        if (withoutSchedules) {
            main.addOverrideProperty("camel.main.route-filter-exclude-pattern", "schedule-*,staleness-timer,verification");
        }
        if (!service) {
            main.addOverrideProperty("camel.management.enabled", "false");
            main.addOverrideProperty("camel.metrics.enabled", "false");
        } else {
            // Quartz would otherwise wait, without any limit, for a scheduled backup that is still running, and the
            // stop would hang past camel.main.shutdown-timeout, the time in-flight backups are promised.
            main.addOverrideProperty("camel.component.quartz.interrupt-jobs-on-shutdown", "true");
            // Bound before Camel starts, so that Camel's route metrics are registered through its naming filter.
            main.bind(io.stowage.metrics.MetricsRegistry.BEAN, io.stowage.metrics.MetricsRegistry.create());
        }
        main.configure().withRoutesIncludePattern("file:" + routes + "/*.camel.yaml");
        main.bind("stowageRouteDeclarations", new RouteDeclarations());
        main.bind(io.stowage.route.LogShipping.BEAN, new io.stowage.route.LogShipping());
        ServicesConfiguration configuration = new ServicesConfiguration(config, service);
        main.configure().addConfiguration(configuration);
        try {
            main.start();
        } catch (Exception e) {
            stopQuietly(main);
            release(configuration.instance);
            throw configuration.refusal != null ? configuration.refusal : ConfigurationErrors.describe(e, routes);
        }
        StowageServices services = configuration.services;
        try {
            services.jobs(JobRegistry.from(main.getCamelContext(), services.engines()));
            // Every job's repositories parameter names configured repositories, and at least one.
            services.jobs().all().forEach(job -> services.repositories().forJob(job.name(), job.parameters().get("repositories")));
            java.util.List<io.stowage.schedule.Schedule> scheduleList =
                    io.stowage.schedule.Schedules.from(main.getCamelContext(), services.jobs(), services.engines());
            java.util.Map<String, java.util.Map<String, String>> logArchives = new java.util.HashMap<>();
            java.util.List<io.stowage.schedule.WalArchive> walArchives = new java.util.ArrayList<>();
            for (io.stowage.schedule.WalArchive archive : io.stowage.schedule.WalArchive.from(main.getCamelContext())) {
                logArchives.put(archive.job(), archive.parameters());
                io.stowage.job.Job archived = services.jobs().get(archive.job());
                io.stowage.engine.Engine engine = services.engines().get(archived.engine());
                if (!engine.archivesLogs(archived) || engine.logArchive().isEmpty()) {
                    throw StowageException.usage("route 'wal-" + archive.job() + "' archives WAL for job '"
                            + archive.job() + "', whose engine and method (" + archived.engine() + " " + archived.method()
                            + ") keep no log archive");
                }
                engine.logArchive().get().validateRoute(archived, archive.parameters());
                walArchives.add(archive.withLogFiles(engine.logArchive().get()::isLogFile));
            }
            services.logArchives(logArchives);
            if (service) {
                ManagementServer.requireListening(main.getCamelContext());
                io.micrometer.core.instrument.MeterRegistry registry = main.getCamelContext().getRegistry()
                        .findSingleByType(io.micrometer.core.instrument.MeterRegistry.class);
                services.metrics(new io.stowage.metrics.BackupMetrics(registry));
                io.stowage.schedule.ScheduleService schedules = new io.stowage.schedule.ScheduleService(services,
                        scheduleList, java.time.Duration.ofSeconds(
                                services.settings().number("stowage.staleness.margin-seconds")));
                services.schedules(schedules);
                schedules.loadLastSuccesses();
                schedules.walArchives(walArchives);
            }
        } catch (RuntimeException e) {
            stopQuietly(main);
            release(configuration.instance);
            throw e;
        }
        return new StowageRuntime(main, services, configuration.instance);
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public StowageServices services() {
        return services;
    }

    /** Stops Camel; a service keeps its instance lock until {@link #releaseInstance}. */
    @Override
    public void close() {
        stopQuietly(main);
    }

    /** Lets another service start on this local repository: the service's very last step. */
    public void releaseInstance() {
        release(instance);
    }

    private static void release(ExclusiveLock lock) {
        if (lock != null) {
            lock.close();
        }
    }

    private static void stopQuietly(Main main) {
        try {
            main.stop();
        } catch (Exception ignored) {
            // stopping after a failed start: nothing more to do
        }
    }

    /** Builds the shared services from the configuration's {@code stowage.*} properties, before routes load. */
    public static final class ServicesConfiguration implements org.apache.camel.CamelConfiguration {
        private final Path configFile;
        private final boolean service;
        private StowageServices services;
        private ExclusiveLock instance;
        /** Why the service may not start, reported as it is rather than as a configuration error. */
        private StowageException refusal;

        ServicesConfiguration(Path configFile, boolean service) {
            this.configFile = configFile;
            this.service = service;
        }

        @Override
        public void configure(CamelContext context) {
            PropertiesComponent properties = context.getPropertiesComponent();
            // Every key is checked before anything uses one, and before the routes read theirs as placeholders.
            Settings settings = Settings.read(properties, configFile);
            software.amazon.awssdk.services.s3.S3Client[] firstClient = new software.amazon.awssdk.services.s3.S3Client[1];
            Repositories repositories = new RepositoryConfiguration(settings, configFile, s3 -> {
                software.amazon.awssdk.services.s3.S3Client client = s3.client();
                if (firstClient[0] == null) {
                    firstClient[0] = client;
                    context.getRegistry().bind("s3Client", client);
                }
                return client;
            }).build();
            Path localPath = repositories.home().root();
            if (service) {
                // Before anything starts: a second service must not fire a schedule, ship WAL or log a failed bind.
                try {
                    instance = InstanceLock.acquire(localPath);
                    ManagementServer.checkFree(properties);
                } catch (StowageException e) {
                    refusal = e;
                    throw e;
                }
            }
            io.stowage.alert.AlertSettings alerts = new io.stowage.alert.AlertSettings(
                    settings.text("stowage.alert.slack.webhook-url").orElse(null),
                    settings.flag("stowage.alert.slack.notify-success"),
                    settings.text("stowage.alert.pagerduty.routing-key").orElse(null),
                    settings.text("stowage.alert.pagerduty.url").orElse("https://events.pagerduty.com/v2/enqueue"));
            int attempts = Math.toIntExact(settings.number("stowage.retry.attempts"));
            services = new StowageServices(repositories, EngineCatalog.engines(), alerts, attempts);
            services.settings(settings);
            services.encryption(io.stowage.crypto.AgeKeys.configure(
                    settings.text("stowage.encryption.recipients").orElse(null),
                    settings.path("stowage.encryption.identity-file").map(Path::toString).orElse(null),
                    settings.path("stowage.encryption.passphrase-file").map(Path::toString).orElse(null),
                    settings.text("stowage.encryption.passphrase-work-factor").orElse(null)));
            services.scratchRoot(settings.path("stowage.scratch.path")
                    .orElse(Path.of(System.getProperty("java.io.tmpdir"), "stowage-scratch")));
            context.getRegistry().bind(StowageServices.BEAN, services);
        }
    }
}
