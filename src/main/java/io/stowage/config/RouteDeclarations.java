package io.stowage.config;

import io.stowage.StowageException;
import io.stowage.config.RouteSources;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.builder.RouteBuilderLifecycleStrategy;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.model.RouteTemplateParameterDefinition;
import org.apache.camel.model.TemplatedRouteDefinition;
import org.apache.camel.model.TemplatedRouteParameterDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.util.StringHelper;

/**
 * Checks what each route file declares as Camel loads it, before any route is built. Camel's model keeps one route
 * and one route template per id and lets a later declaration replace an earlier one without a word (a copied job
 * block whose routeId was left unchanged stops the first job's backups); and it instantiates a templated route with
 * whatever parameters it is given, so a misspelt one is ignored and the template's default used instead. Both are
 * refused here, naming the file and line. Bound in Camel's registry, it sees every route builder Camel configures
 * (one per file), and every file is configured before any templated route is instantiated.
 */
public final class RouteDeclarations implements RouteBuilderLifecycleStrategy {
    /** Where something is declared: a file and line, or only a file or Camel's location when the line is unknown. */
    private record Place(String file, int line) {
        @Override
        public String toString() {
            return line > 0 ? file + ", line " + line : file;
        }
    }

    private record Pending(TemplatedRouteDefinition route, Path file, Place place) {
    }

    private static final String ROUTE_ID_HINT = "give each route its own id (a job's is backup-<job>)";

    private final Map<String, Place> routeIds = new HashMap<>();
    private final Map<String, Place> templateIds = new HashMap<>();
    private final Map<String, RouteTemplateDefinition> templates = new HashMap<>();
    /** Lines already attributed to a declaration, so that two declarations of one id find their own lines. */
    private final Set<Place> taken = new HashSet<>();
    private final List<Pending> pending = new ArrayList<>();

    @Override
    public synchronized void afterConfigure(RouteBuilder builder) {
        Path file = file(builder.getResource());
        for (RouteTemplateDefinition template : builder.getRouteTemplateCollection().getRouteTemplates()) {
            declare(templateIds, "route template '" + template.getId() + "'", template.getId(),
                    place(file, template.getLineNumber(), template.getId(), template.getLocation()),
                    "give each route template its own id");
            templates.put(template.getId(), template);
        }
        for (RouteDefinition route : builder.getRouteCollection().getRoutes()) {
            if (route.getRouteId() != null) {
                declare(routeIds, "route id '" + route.getRouteId() + "'", route.getRouteId(),
                        place(file, route.getLineNumber(), route.getRouteId(), route.getLocation()), ROUTE_ID_HINT);
            }
        }
        for (TemplatedRouteDefinition templated : builder.getTemplatedRouteCollection().getTemplatedRoutes()) {
            Place place = templated.getRouteId() == null ? place(file, 0, null, null)
                    : place(file, 1, templated.getRouteId(), null);
            if (templated.getRouteId() != null) {
                declare(routeIds, "route id '" + templated.getRouteId() + "'", templated.getRouteId(), place,
                        ROUTE_ID_HINT);
            }
            pending.add(new Pending(templated, file, place));
        }
        checkParameters();
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

    /** The parameters of every templated route whose template is known by now. */
    private void checkParameters() {
        for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
            Pending next = it.next();
            RouteTemplateDefinition template = templates.get(next.route().getRouteTemplateRef());
            if (template != null) {
                it.remove();
                check(next, template);
            }
        }
    }

    private void check(Pending pending, RouteTemplateDefinition template) {
        Set<String> declared = new LinkedHashSet<>();
        if (template.getTemplateParameters() != null) {
            for (RouteTemplateParameterDefinition parameter : template.getTemplateParameters()) {
                declared.add(parameter.getName());
            }
        }
        Set<String> given = new HashSet<>();
        List<TemplatedRouteParameterDefinition> parameters = pending.route().getParameters() == null ? List.of()
                : pending.route().getParameters();
        for (TemplatedRouteParameterDefinition parameter : parameters) {
            String name = parameter.getName();
            if (name == null) {
                continue; // Camel refuses a parameter without a name
            }
            // Camel also takes a parameter in its dashed form (storage-class for storageClass).
            String canonical = declared.contains(name) ? name : StringHelper.dashToCamelCase(name);
            if (!declared.contains(canonical)) {
                throw StowageException.usage(where(pending, name, 1) + ": template '" + template.getId()
                        + "' has no parameter '" + name + "'; HINT: " + Suggestions.closest(name, declared)
                        .map(known -> "did you mean '" + known + "'?")
                        .orElse("its parameters are " + String.join(", ", declared)));
            }
            if (!given.add(canonical)) {
                throw StowageException.usage(where(pending, name, 2) + ": parameter '" + name + "' is given twice, "
                        + "and only the last would count; HINT: keep one");
            }
        }
    }

    /** The templated route and the line of the {@code occurrence}-th mention of parameter {@code name} in it. */
    private static String where(Pending pending, String name, int occurrence) {
        String route = pending.route().getRouteId() == null
                ? "a templated route of template '" + pending.route().getRouteTemplateRef() + "'"
                : "templated route '" + pending.route().getRouteId() + "'";
        if (pending.file() == null) {
            return route;
        }
        int from = Math.max(pending.place().line(), 1);
        Optional<Integer> line = RouteSources.parameterLines(pending.file(), name).stream().filter(l -> l >= from)
                .skip(occurrence - 1).findFirst();
        return route + " (" + new Place(pending.file().toString(), line.orElse(pending.place().line())) + ")";
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
