package io.stowage.runtime;

import io.stowage.StowageException;
import io.stowage.job.JobRegistry;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repositories;
import io.stowage.repository.S3Repository;
import io.stowage.repository.S3Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
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

    private StowageRuntime(Main main, StowageServices services) {
        this.main = main;
        this.services = services;
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
     * so a command never fires a schedule or takes the service's port.
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
        Main main = new Main();
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
            // Bound before Camel starts, so that Camel's route metrics are registered through its naming filter.
            main.bind(io.stowage.metrics.MetricsRegistry.BEAN, io.stowage.metrics.MetricsRegistry.create());
        }
        main.configure().withRoutesIncludePattern("file:" + routes + "/*.camel.yaml");
        ServicesConfiguration configuration = new ServicesConfiguration();
        main.configure().addConfiguration(configuration);
        try {
            main.start();
        } catch (Exception e) {
            stopQuietly(main);
            throw ConfigurationErrors.describe(e, routes);
        }
        StowageServices services = configuration.services;
        try {
            services.jobs(JobRegistry.from(main.getCamelContext()));
            java.util.List<io.stowage.schedule.Schedule> scheduleList =
                    io.stowage.schedule.Schedules.from(main.getCamelContext(), services.jobs());
            for (io.stowage.schedule.WalArchive archive : io.stowage.schedule.WalArchive.from(main.getCamelContext())) {
                if (!"physical".equals(services.jobs().get(archive.job()).method())) {
                    throw StowageException.usage("route 'wal-" + archive.job() + "' archives WAL for job '"
                            + archive.job() + "', which is not a physical job");
                }
            }
            if (service) {
                ManagementServer.requireListening(main.getCamelContext());
                io.micrometer.core.instrument.MeterRegistry registry = main.getCamelContext().getRegistry()
                        .findSingleByType(io.micrometer.core.instrument.MeterRegistry.class);
                services.metrics(new io.stowage.metrics.BackupMetrics(registry));
                io.stowage.schedule.ScheduleService schedules = new io.stowage.schedule.ScheduleService(services,
                        scheduleList, java.time.Duration.ofSeconds(
                                Long.parseLong(ServicesConfiguration.property(main.getCamelContext()
                                        .getPropertiesComponent(), "stowage.staleness.margin-seconds").orElse("3600"))));
                services.schedules(schedules);
                schedules.loadLastSuccesses();
                schedules.walArchives(io.stowage.schedule.WalArchive.from(main.getCamelContext()));
            }
        } catch (RuntimeException e) {
            stopQuietly(main);
            throw e;
        }
        return new StowageRuntime(main, services);
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public StowageServices services() {
        return services;
    }

    @Override
    public void close() {
        stopQuietly(main);
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
        private StowageServices services;

        @Override
        public void configure(CamelContext context) {
            PropertiesComponent properties = context.getPropertiesComponent();
            String localPath = property(properties, "stowage.repository.local.path").orElse("./backups");
            LocalRepository local = new LocalRepository(Repositories.LOCAL, Path.of(localPath));
            S3Settings s3Settings = new S3Settings(
                    property(properties, "stowage.repository.s3.bucket").orElse(""),
                    property(properties, "stowage.repository.s3.prefix").orElse(""),
                    property(properties, "stowage.repository.s3.endpoint").orElse(""),
                    property(properties, "stowage.repository.s3.region").orElse(""),
                    Integer.parseInt(property(properties, "stowage.repository.s3.part-size").orElse("16777216")),
                    S3Settings.checksums(property(properties, "stowage.repository.s3.checksum").orElse("sha256")));
            S3Repository s3 = null;
            if (s3Settings.enabled()) {
                software.amazon.awssdk.services.s3.S3Client client = s3Settings.client();
                context.getRegistry().bind("s3Client", client);
                s3 = new S3Repository(Repositories.S3, client, s3Settings.bucket().trim(), s3Settings.prefix(),
                        s3Settings.partSize(), s3Settings.checksums());
            }
            io.stowage.alert.AlertSettings alerts = new io.stowage.alert.AlertSettings(
                    property(properties, "stowage.alert.slack.webhook-url").orElse(null),
                    Boolean.parseBoolean(property(properties, "stowage.alert.slack.notify-success").orElse("false")),
                    property(properties, "stowage.alert.pagerduty.routing-key").orElse(null),
                    property(properties, "stowage.alert.pagerduty.url").orElse("https://events.pagerduty.com/v2/enqueue"));
            int attempts = Integer.parseInt(property(properties, "stowage.retry.attempts").orElse("3"));
            services = new StowageServices(new Repositories(local, s3), alerts, attempts);
            services.encryption(io.stowage.crypto.AgeKeys.configure(
                    property(properties, "stowage.encryption.recipients").orElse(null),
                    property(properties, "stowage.encryption.identity-file").orElse(null),
                    property(properties, "stowage.encryption.passphrase-file").orElse(null),
                    property(properties, "stowage.encryption.passphrase-work-factor").orElse(null)));
            services.scratchRoot(property(properties, "stowage.scratch.path").map(Path::of)
                    .orElse(Path.of(System.getProperty("java.io.tmpdir"), "stowage-scratch")));
            context.getRegistry().bind(StowageServices.BEAN, services);
        }

        static Optional<String> property(PropertiesComponent properties, String key) {
            return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
        }
    }
}
