package io.stowage.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds where a route is declared in routes/, for error messages: Camel knows the file and line of a route
 * template, but a templated route (a job, a schedule) is declared by its {@code routeId:} line, found here.
 */
public final class RouteSources {
    /** The initial property that carries the routes directory to code that only has the CamelContext. */
    public static final String DIRECTORY_PROPERTY = "stowage.routes.dir";

    private RouteSources() {
    }

    /** {@code /path/routes/jobs.camel.yaml, line 3}, or empty when no file declares the route. */
    public static Optional<String> locate(Path directory, String routeId) {
        if (directory == null || routeId == null || !Files.isDirectory(directory)) {
            return Optional.empty();
        }
        Pattern declaration = Pattern.compile("^\\s*(?:-\\s*)?(?:routeId|id):\\s*\"?" + Pattern.quote(routeId) + "\"?\\s*$");
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList()) {
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    if (declaration.matcher(lines.get(i)).matches()) {
                        return Optional.of(file + ", line " + (i + 1));
                    }
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * {@code /path/routes/jobs.camel.yaml, line 7}: where the templated route {@code routeId} sets {@code parameter},
     * or empty when no file declares the route with that parameter after it.
     */
    public static Optional<String> locateParameter(Path directory, String routeId, String parameter) {
        if (directory == null || routeId == null || !Files.isDirectory(directory)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList()) {
                List<Integer> declared = idLines(file, routeId);
                if (!declared.isEmpty()) {
                    // Only a mention between the route's own line and the next top-level entry is this route's.
                    int from = declared.get(0);
                    int end = matchingLines(file, Pattern.compile("^-\\s.*")).stream().filter(l -> l > from)
                            .findFirst().orElse(Integer.MAX_VALUE);
                    return parameterLines(file, parameter).stream().filter(l -> l > from && l < end).findFirst()
                            .map(line -> file + ", line " + line);
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The lines (1-based) of {@code file} that declare the route or template {@code id}; empty when unreadable. */
    public static List<Integer> idLines(Path file, String id) {
        return matchingLines(file, Pattern.compile("^\\s*(?:-\\s*)?(?:routeId|route-id|id):\\s*[\"']?"
                + Pattern.quote(id) + "[\"']?\\s*(?:#.*)?$"));
    }

    /** The lines (1-based) of {@code file} that name a templated route's parameter {@code name}. */
    public static List<Integer> parameterLines(Path file, String name) {
        return matchingLines(file, Pattern.compile("^\\s*(?:-\\s*)?name:\\s*[\"']?" + Pattern.quote(name)
                + "[\"']?\\s*(?:#.*)?$"));
    }

    private static List<Integer> matchingLines(Path file, Pattern pattern) {
        List<Integer> found = new ArrayList<>();
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                if (pattern.matcher(lines.get(i)).matches()) {
                    found.add(i + 1);
                }
            }
        } catch (IOException e) {
            // Camel read it already; only the line numbers of messages are lost
        }
        return found;
    }
}
