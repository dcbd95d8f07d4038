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

    /** Starts Camel with the given configuration file and the routes beside it. */
    public static StowageRuntime start(Path configFile) {
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
        main.configure().withRoutesIncludePattern("file:" + routes + "/*.camel.yaml");
        ServicesConfiguration configuration = new ServicesConfiguration();
        main.configure().addConfiguration(configuration);
        try {
            main.start();
        } catch (Exception e) {
            stopQuietly(main);
            throw ConfigurationErrors.describe(e);
        }
        StowageServices services = configuration.services;
        try {
            services.jobs(JobRegistry.from(main.getCamelContext()));
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
                    Integer.parseInt(property(properties, "stowage.repository.s3.part-size").orElse("16777216")));
            S3Repository s3 = null;
            if (s3Settings.enabled()) {
                software.amazon.awssdk.services.s3.S3Client client = s3Settings.client();
                context.getRegistry().bind("s3Client", client);
                s3 = new S3Repository(Repositories.S3, client, s3Settings.bucket().trim(), s3Settings.prefix(),
                        s3Settings.partSize());
            }
            services = new StowageServices(new Repositories(local, s3));
            context.getRegistry().bind(StowageServices.BEAN, services);
        }

        private static Optional<String> property(PropertiesComponent properties, String key) {
            return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
        }
    }
}
