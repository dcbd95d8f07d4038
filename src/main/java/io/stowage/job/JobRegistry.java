package io.stowage.job;

import io.stowage.StowageException;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;

/**
 * The jobs the loaded routes define. A job is a route instantiated from a template that declares a {@code job}
 * parameter; its route id is {@code backup-<job>} and its trigger {@code direct:backup-<job>}.
 */
public final class JobRegistry {
    /** Job names become route ids, directory names and metric labels: keep them plain. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    private final Map<String, Job> jobs;

    private JobRegistry(Map<String, Job> jobs) {
        this.jobs = jobs;
    }

    public static JobRegistry of(Map<String, Job> jobs) {
        return new JobRegistry(new TreeMap<>(jobs));
    }

    /**
     * The jobs the loaded routes define. {@code engines} says whether an engine exists (by name) and checks a job
     * against its engine, throwing a usage error.
     */
    public static JobRegistry from(CamelContext context, Engines engines) {
        Map<String, Job> jobs = new TreeMap<>();
        for (RouteDefinition route : ((ModelCamelContext) context).getRouteDefinitions()) {
            Map<String, String> parameters = TemplateParameters.of(context, route);
            String name = parameters.get("job");
            if (name == null || !parameters.containsKey("engine")) {
                continue; // not a job: a schedule of one, or its WAL archiving
            }
            String where = "templated route '" + route.getRouteId() + "'" + location(context, route);
            if (name.equals("audit")) {
                throw StowageException.usage("job name 'audit' in " + where + " is reserved for the audit log");
            }
            if (!NAME.matcher(name).matches()) {
                throw StowageException.usage("job name '" + name + "' in " + where + " is invalid: use lowercase "
                        + "letters, digits, '-' and '_' (at most 63)");
            }
            String engine = parameters.get("engine");
            String method = parameters.get("method");
            if (engine == null || method == null) {
                throw StowageException.usage(where + " declares no 'engine' or 'method' parameter");
            }
            if (!engines.names().contains(engine)) {
                throw StowageException.usage("unknown engine '" + engine + "' in " + where + ": this Stowage backs up "
                        + String.join(", ", engines.names()));
            }
            if (jobs.containsKey(name)) {
                throw StowageException.usage("job '" + name + "' is defined twice (second in " + where + ")");
            }
            Job job = new Job(name, engine, method, route.getRouteId(), parameters);
            try {
                engines.check(job);
            } catch (StowageException e) {
                throw StowageException.usage(e.getMessage() + " (" + where + ")");
            }
            job.probes(); // a malformed probe or objective is a configuration error, found at start and by check
            job.rtoSeconds();
            for (String parameter : Job.RETENTION_PARAMETERS) {
                try {
                    if (parameter.equals("retention")) {
                        job.retention();
                    } else {
                        job.retentionDays(parameter);
                    }
                } catch (StowageException e) {
                    throw StowageException.usage(e.getMessage() + " (" + parameterPlace(context, route, parameter)
                            .orElse(where) + ")");
                }
            }
            String storageClass = job.parameter("storageClass", null);
            if (storageClass != null) {
                try {
                    io.stowage.repository.S3Repository.storageClass(storageClass);
                } catch (StowageException e) {
                    throw StowageException.usage("job '" + name + "': " + e.getMessage());
                }
            }
            jobs.put(name, job);
        }
        return new JobRegistry(jobs);
    }

    /** Where {@code route} sets parameter {@code name}: {@code routes/jobs.camel.yaml, line 12}, when it can be found. */
    private static java.util.Optional<String> parameterPlace(CamelContext context, RouteDefinition route, String name) {
        return context.getPropertiesComponent()
                .resolveProperty(io.stowage.config.RouteSources.DIRECTORY_PROPERTY)
                .flatMap(dir -> io.stowage.config.RouteSources.locateParameter(java.nio.file.Path.of(dir),
                        route.getRouteId(), name));
    }

    /** Where a route was defined, for messages: {@code (routes/jobs.camel.yaml, line 3)}. */
    public static String location(CamelContext context, RouteDefinition route) {
        String location = route.getLocation();
        if (location == null || location.isBlank()) {
            return context.getPropertiesComponent().resolveProperty(io.stowage.config.RouteSources.DIRECTORY_PROPERTY)
                    .flatMap(dir -> io.stowage.config.RouteSources.locate(java.nio.file.Path.of(dir), route.getRouteId()))
                    .map(found -> " (" + found + ")").orElse("");
        }
        location = location.replaceFirst("^file:", "");
        return " (" + location + (route.getLineNumber() > 0 ? ", line " + route.getLineNumber() : "") + ")";
    }

    /** What the registry needs to know of the engines, without depending on them. */
    public interface Engines {
        /** The engines there are. */
        java.util.List<String> names();

        /** Checks a job against its engine (method, parameters); throws a usage error naming what is wrong. */
        void check(Job job);
    }

    public Collection<Job> all() {
        return jobs.values();
    }

    public Job get(String name) {
        Job job = jobs.get(name);
        if (job == null) {
            throw StowageException.usage("unknown job '" + name + "'; jobs defined in routes/: "
                    + (jobs.isEmpty() ? "none" : String.join(", ", jobs.keySet())));
        }
        return job;
    }
}
