package io.stowage.schedule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;

/**
 * One job's log archiving (PostgreSQL's WAL, later binlogs), as its templated route declares it (a route with
 * {@code job} and {@code spool} parameters, such as {@code postgresql-wal}): the spool directory, the recovery point
 * objective, the spool size limit, and every parameter as given, for the job's engine to read (its receiver, say).
 * Knows the spool's state (lag). What the files mean is the engine's {@link io.stowage.engine.LogArchive}.
 */
public record WalArchive(String job, Path spool, Duration rpoObjective, long spoolLimitBytes,
                         Map<String, String> parameters, java.util.function.Predicate<String> logFiles) {

    public WalArchive {
        parameters = Map.copyOf(parameters);
    }

    public WalArchive(String job, Path spool, Duration rpoObjective, long spoolLimitBytes,
                      Map<String, String> parameters) {
        this(job, spool, rpoObjective, spoolLimitBytes, parameters, name -> true);
    }

    /**
     * This archive, counting as waiting only the spooled files its job's engine calls log files
     * ({@link io.stowage.engine.LogArchive#isLogFile}: what the log route ships); anything else in the spool (a
     * segment still being received, an operator's note) takes space but is not log waiting.
     */
    public WalArchive withLogFiles(java.util.function.Predicate<String> isLogFile) {
        return new WalArchive(job, spool, rpoObjective, spoolLimitBytes, parameters, isLogFile);
    }

    public static List<WalArchive> from(CamelContext context) {
        List<WalArchive> archives = new ArrayList<>();
        for (RouteDefinition route : ((ModelCamelContext) context).getRouteDefinitions()) {
            Map<String, String> parameters = io.stowage.job.TemplateParameters.of(context, route);
            if (parameters.get("spool") != null && parameters.get("job") != null) {
                // The file consumer reads it only when the service starts the route: checked here for every command.
                number(context, route, parameters, "pollDelay", 1000, 1);
                if (parameters.containsKey("partialSeconds")) {
                    number(context, route, parameters, "partialSeconds", 10, 0);
                }
                Map<String, String> trimmed = new java.util.HashMap<>();
                parameters.forEach((key, value) -> trimmed.put(key, value == null ? "" : value.trim()));
                archives.add(new WalArchive(parameters.get("job"), Path.of(parameters.get("spool")),
                        Duration.ofSeconds(number(context, route, parameters, "rpoSeconds", 3600, 1)),
                        number(context, route, parameters, "spoolLimitBytes", 10_737_418_240L, 1), trimmed));
            }
        }
        return archives;
    }

    private static long number(CamelContext context, RouteDefinition route, Map<String, String> parameters,
                               String name, long fallback, long min) {
        return io.stowage.job.TemplateParameters.number(context, route, parameters, name, fallback, min);
    }

    /**
     * Why the spool cannot be used, or empty. The spool must be a directory this user can list and delete from; when
     * the server fills it (archive_command) it is also the server's, made by the operator (a spool made here, at a
     * mistyped path or with this user's permissions, would silently receive nothing), while one the service fills
     * (through the engine's receiver, {@code serviceFillsIt}) is made by the service.
     */
    public java.util.Optional<String> spoolProblem(boolean serviceFillsIt) {
        if (!Files.exists(spool)) {
            return serviceFillsIt ? java.util.Optional.empty() : java.util.Optional.of("spool " + spool + " does not exist;"
                    + " HINT: create it, writable by the server's user and by this one (docs/postgresql.md, "
                    + "\"Server set-up\")");
        }
        if (!Files.isDirectory(spool)) {
            return java.util.Optional.of("spool " + spool + " is not a directory");
        }
        if (!Files.isReadable(spool) || !Files.isWritable(spool) || !Files.isExecutable(spool)) {
            return java.util.Optional.of("spool " + spool + " is not writable by user "
                    + System.getProperty("user.name")
                    + ", which ships and deletes its files; HINT: give it the spool's group (docs/postgresql.md, "
                    + "\"Server set-up\")");
        }
        return java.util.Optional.empty();
    }

    /** Spooled files waiting to be shipped: their count, total size and the age of the oldest. */
    public record SpoolState(int files, long bytes, Duration oldest) {
    }

    public SpoolState spoolState(Instant now) {
        if (!Files.isDirectory(spool)) {
            return new SpoolState(0, 0, Duration.ZERO);
        }
        int files = 0;
        int waiting = 0;
        long bytes = 0;
        Instant oldest = now;
        try (Stream<Path> paths = Files.list(spool)) {
            for (Path path : paths.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                try {
                    files++;
                    bytes += Files.size(path);
                    if (!logFiles.test(path.getFileName().toString())) {
                        continue; // left in the spool by the route: takes space, but is not WAL waiting
                    }
                    waiting++;
                    Instant modified = Files.getLastModifiedTime(path).toInstant();
                    if (modified.isBefore(oldest)) {
                        oldest = modified;
                    }
                } catch (IOException shippedMeanwhile) {
                    // the file was shipped and deleted while we looked
                }
            }
        } catch (IOException e) {
            return new SpoolState(0, 0, Duration.ZERO);
        }
        return new SpoolState(files, bytes, waiting == 0 ? Duration.ZERO : Duration.between(oldest, now));
    }

}
