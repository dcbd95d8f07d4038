package io.stowage.schedule;

import io.stowage.engine.postgresql.WalNames;
import io.stowage.engine.postgresql.WalObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;

/**
 * One job's WAL archiving, as its templated {@code postgresql-wal} route declares it: the spool directory, the
 * recovery point objective and the spool size limit. Knows the spool's state (lag) and the archive's gaps.
 */
public record WalArchive(String job, Path spool, Duration rpoObjective, long spoolLimitBytes, String receiver,
                         String slot, String codec, String level, Duration partialInterval, String repositories) {
    /** The server's archive_command (bin/stowage-archive-wal) fills the spool. */
    public static final String ARCHIVE_COMMAND = "archive_command";
    /** The service runs pg_receivewal, which streams into the spool. */
    public static final String PG_RECEIVEWAL = "pg_receivewal";

    public WalArchive {
        if (!ARCHIVE_COMMAND.equals(receiver) && !PG_RECEIVEWAL.equals(receiver)) {
            throw io.stowage.StowageException.usage("WAL route of job '" + job + "' has receiver '" + receiver
                    + "'; HINT: use archive_command (the server's archive_command fills the spool) or pg_receivewal "
                    + "(the service streams WAL with pg_receivewal)");
        }
    }

    public boolean streams() {
        return PG_RECEIVEWAL.equals(receiver);
    }

    public static List<WalArchive> from(CamelContext context) {
        List<WalArchive> archives = new ArrayList<>();
        for (RouteDefinition route : ((ModelCamelContext) context).getRouteDefinitions()) {
            Map<String, String> parameters = io.stowage.job.TemplateParameters.of(context, route);
            if (parameters.get("spool") != null && parameters.get("job") != null) {
                // The file consumer reads it only when the service starts the route: checked here for every command.
                number(context, route, parameters, "pollDelay", 1000, 1);
                archives.add(new WalArchive(parameters.get("job"), Path.of(parameters.get("spool")),
                        Duration.ofSeconds(number(context, route, parameters, "rpoSeconds", 3600, 1)),
                        number(context, route, parameters, "spoolLimitBytes", 10_737_418_240L, 1),
                        parameters.getOrDefault("receiver", ARCHIVE_COMMAND).trim(),
                        parameters.getOrDefault("slot", "").trim(), parameters.getOrDefault("codec", "zstd").trim(),
                        parameters.getOrDefault("level", "1").trim(),
                        Duration.ofSeconds(number(context, route, parameters, "partialSeconds", 10, 0)),
                        parameters.getOrDefault("repositories", "").trim()));
            }
        }
        return archives;
    }

    private static long number(CamelContext context, RouteDefinition route, Map<String, String> parameters,
                               String name, long fallback, long min) {
        return io.stowage.job.TemplateParameters.number(context, route, parameters, name, fallback, min);
    }

    /**
     * Why the spool cannot be used, or empty. The spool must be a directory this user can list and delete from; with
     * archive_command it is also the server's, made by the operator (a spool made here, at a mistyped path or with
     * this user's permissions, would silently receive nothing), while pg_receivewal's is made by the service.
     */
    public java.util.Optional<String> spoolProblem() {
        if (!Files.exists(spool)) {
            return streams() ? java.util.Optional.empty() : java.util.Optional.of("spool " + spool + " does not exist;"
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
        long bytes = 0;
        Instant oldest = now;
        try (Stream<Path> paths = Files.list(spool)) {
            for (Path path : paths.filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                try {
                    files++;
                    bytes += Files.size(path);
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
        return new SpoolState(files, bytes, files == 0 ? Duration.ZERO : Duration.between(oldest, now));
    }

    /**
     * Missing segments in an archive (the keys of its objects, as listed under {@code <job>/wal/}) from
     * {@code firstNeeded} (the oldest retained backup's first segment) to the newest archived segment of each
     * timeline: each gap is named by its first missing segment.
     */
    public static List<String> gaps(List<String> archive, String firstNeeded, long segmentSize) {
        TreeMap<Integer, java.util.TreeSet<String>> byTimeline = new TreeMap<>();
        for (String key : archive) {
            WalObject object = WalObject.ofKey(key).orElse(null);
            String name = object == null || object.checksumFile() || object.partial() ? "" : object.walName();
            if (WalNames.isSegment(name) && name.substring(8).compareTo(firstNeeded.substring(8)) >= 0) {
                byTimeline.computeIfAbsent(WalNames.timeline(name), t -> new java.util.TreeSet<>()).add(name);
            }
        }
        List<String> gaps = new ArrayList<>();
        for (java.util.TreeSet<String> timeline : byTimeline.values()) {
            List<String> segments = new ArrayList<>(timeline);
            for (int i = 1; i < segments.size(); i++) {
                String expected = WalNames.next(segments.get(i - 1), segmentSize);
                if (!expected.equals(segments.get(i))) {
                    gaps.add(expected);
                }
            }
        }
        String first = byTimeline.isEmpty() ? null : byTimeline.firstEntry().getValue().first();
        if (first == null) {
            gaps.add(0, firstNeeded);
        } else if (WalNames.timeline(first) == WalNames.timeline(firstNeeded) && !first.equals(firstNeeded)) {
            gaps.add(0, firstNeeded);
        }
        return gaps;
    }
}
