package io.stowage.config;

import io.stowage.StowageException;
import io.stowage.runtime.RouteSources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.builder.RouteBuilderLifecycleStrategy;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.TemplatedRouteDefinition;
import org.apache.camel.spi.Resource;

/**
 * Checks what each route file declares as Camel loads it, before any route is built. Camel's model keeps one route
 * and one route template per id and lets a later declaration replace an earlier one without a word (a copied job
 * block whose routeId was left unchanged stops the first job's backups): that is refused here, naming both places.
 * Bound in Camel's registry, it sees every route builder Camel configures (one per file).
 */
public final class RouteDeclarations implements RouteBuilderLifecycleStrategy {
    /** Where something is declared: a file and line, or only a file or Camel's location when the line is unknown. */
    private record Place(String file, int line) {
        @Override
        public String toString() {
            return line > 0 ? file + ", line " + line : file;
        }
    }

    private static final String ROUTE_ID_HINT = "give each route its own id (a job's is backup-<job>)";

    private final Map<String, Place> routeIds = new HashMap<>();
    private final Map<String, Place> templateIds = new HashMap<>();
    /** Lines already attributed to a declaration, so that two declarations of one id find their own lines. */
    private final Set<Place> taken = new HashSet<>();

    @Override
    public synchronized void afterConfigure(RouteBuilder builder) {
        Path file = file(builder.getResource());
        for (RouteTemplateDefinition template : builder.getRouteTemplateCollection().getRouteTemplates()) {
            declare(templateIds, "route template '" + template.getId() + "'", template.getId(),
                    place(file, template.getLineNumber(), template.getId(), template.getLocation()),
                    "give each route template its own id");
        }
        for (RouteDefinition route : builder.getRouteCollection().getRoutes()) {
            if (route.getRouteId() != null) {
                declare(routeIds, "route id '" + route.getRouteId() + "'", route.getRouteId(),
                        place(file, route.getLineNumber(), route.getRouteId(), route.getLocation()), ROUTE_ID_HINT);
            }
        }
        for (TemplatedRouteDefinition templated : builder.getTemplatedRouteCollection().getTemplatedRoutes()) {
            if (templated.getRouteId() != null) {
                declare(routeIds, "route id '" + templated.getRouteId() + "'", templated.getRouteId(),
                        place(file, 1, templated.getRouteId(), null), ROUTE_ID_HINT);
            }
        }
    }

    private static void declare(Map<String, Place> declared, String what, String id, Place place, String hint) {
        Place first = declared.putIfAbsent(id, place);
        if (first != null) {
            List<Place> both = new ArrayList<>(List.of(first, place));
            both.sort(Comparator.comparing(Place::file).thenComparingInt(Place::line));
            throw StowageException.usage(what + " is declared twice (" + both.get(0) + " and " + both.get(1)
                    + "); HINT: " + hint);
        }
    }

    /** The line of the first declaration of {@code id} at or after {@code from} not yet attributed to another. */
    private Place place(Path file, int from, String id, String location) {
        if (file != null && id != null) {
            for (int line : RouteSources.idLines(file, id)) {
                Place place = new Place(file.toString(), line);
                if (line >= from && taken.add(place)) {
                    return place;
                }
            }
        }
        if (file != null) {
            return new Place(file.toString(), Math.max(from, 0));
        }
        return new Place(location == null ? "(unknown file)" : location, 0);
    }

    private static Path file(Resource resource) {
        String location = resource == null ? null : resource.getLocation();
        if (location == null || !location.startsWith("file:")) {
            return null;
        }
        return Path.of(location.substring("file:".length())).toAbsolutePath().normalize();
    }
}
