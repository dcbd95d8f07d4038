package io.stowage.runtime;
import io.stowage.config.RouteSources;
import io.stowage.services.StowageServices;

import io.stowage.StowageException;
import io.stowage.job.JobRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;

/**
 * Build-time check of routes/: every {@code *.camel.yaml} file is parsed by Camel's YAML DSL, route templates are
 * instantiated into jobs, and every {@code stowage:} step checks its parameters, without connecting to anything.
 * Run by the build (exec-maven-plugin) so a broken route fails {@code mvn package}.
 */
public final class RouteValidator {
    private RouteValidator() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "routes");
        int jobs = validate(dir);
        System.out.println("routes in " + dir + " are valid: " + jobs + " job(s)");
    }

    /** Loads every route file of {@code dir} into a context that is never started; returns the number of jobs. */
    public static int validate(Path dir) throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            // Placeholders resolve to their defaults: routes must be valid whatever the environment says.
            context.getPropertiesComponent().addInitialProperty("stowage.repository.s3.bucket", "validation");
            context.getPropertiesComponent().addInitialProperty("stowage.repository.s3.part-size", "16777216");
            context.getPropertiesComponent().addInitialProperty(io.stowage.config.RouteSources.DIRECTORY_PROPERTY,
                    dir.toAbsolutePath().toString());
            context.getRegistry().bind(io.stowage.services.StowageServices.BEAN, new io.stowage.services.StowageServices(
                    new io.stowage.repository.Repositories(new io.stowage.repository.LocalRepository("local",
                            Path.of(System.getProperty("java.io.tmpdir"), "stowage-route-validation")), null),
                    EngineCatalog.engines()));
            // Duplicate ids and template parameters no template declares fail the build as they fail at start.
            context.getRegistry().bind("stowageRouteDeclarations", new io.stowage.config.RouteDeclarations());
            context.getRegistry().bind(io.stowage.route.LogShipping.BEAN, new io.stowage.route.LogShipping());
            java.util.List<Resource> resources = new java.util.ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList()) {
                    resources.add(ResourceHelper.resolveResource(context, "file:" + file.toAbsolutePath()));
                }
            }
            // All files at once, as camel-main loads them: templates are then known to every templated route.
            PluginHelper.getRoutesLoader(context).loadRoutes(resources);
            context.build();
            // Starting instantiates templated routes and creates every endpoint, which checks each step's parameters.
            context.start();
            int jobs = JobRegistry.from(context, EngineCatalog.engines()).all().size();
            context.stop();
            return jobs;
        } catch (StowageException e) {
            throw new IllegalStateException("invalid routes in " + dir + ": " + e.getMessage(), e);
        }
    }
}
