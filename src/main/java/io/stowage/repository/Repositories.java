package io.stowage.repository;

import io.stowage.StowageException;
import io.stowage.job.Job;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The repositories this configuration defines, in the order of {@code stowage.repositories}: the order restores
 * prefer (without that key: {@code local}, then {@code s3} when a bucket is set). Each is wrapped in a
 * {@link RetryingRepository}, and carries its {@link Attributes}.
 *
 * <p>The <em>home</em> repository is the first local-type repository of the list: it holds the process's own state
 * (the job locks, the service's instance lock, the audit log, the alert outbox and state, restore scratch
 * directories). A configuration without a local-type repository is refused.
 */
public final class Repositories {
    public static final String LOCAL = "local";
    public static final String S3 = "s3";

    /**
     * What the 3-2-1 check reads about a repository: its {@code type} ({@code local}, {@code s3}), {@code media}
     * ({@code disk}, {@code nas}, {@code object}, {@code tape}), whether it is {@code offsite}, and its {@code region}
     * (empty when unknown).
     */
    public record Attributes(String type, String media, boolean offsite, String region) {
        /** A local repository's defaults: a disk, on site. */
        public static Attributes local() {
            return new Attributes(LOCAL, "disk", false, "");
        }

        /** An S3 repository's defaults: object storage, off site, in its client's region. */
        public static Attributes s3(String region) {
            return new Attributes(S3, "object", true, region == null ? "" : region);
        }

        /** One line for {@code check}: {@code media disk, on site, region eu-west-1}. */
        public String describe() {
            return "type " + type + ", media " + media + ", " + (offsite ? "off site" : "on site")
                    + (region.isEmpty() ? "" : ", region " + region);
        }
    }

    private final List<Repository> all;
    private final Map<String, Attributes> attributes;
    private final LocalRepository home;
    /** Whether the list comes from stowage.repositories (else the shipped defaults: local, s3). */
    private final boolean named;

    /**
     * @param repositories in the configured order, each as it is to be used (wrapped in a RetryingRepository)
     * @param attributes   each repository's attributes, by name
     */
    public Repositories(List<Repository> repositories, Map<String, Attributes> attributes, boolean named) {
        this.all = List.copyOf(repositories);
        this.attributes = Map.copyOf(attributes);
        this.named = named;
        this.home = repositories.stream().map(Repository::unwrap).filter(LocalRepository.class::isInstance)
                .map(LocalRepository.class::cast).findFirst().orElseThrow(() -> StowageException.usage(
                        "none of the repositories " + names() + " is local; HINT: add a repository of type local "
                                + "to stowage.repositories: it holds the locks, the audit log and the alert outbox"));
    }

    /** The shipped defaults: {@code local}, then {@code s3} when configured; neither retried. */
    public Repositories(LocalRepository local, S3Repository s3) {
        this(s3 == null ? List.of(local) : List.of(local, s3), s3 == null ? Map.of(LOCAL, Attributes.local())
                : Map.of(LOCAL, Attributes.local(), S3, Attributes.s3("")), false);
    }

    /** The first local-type repository: locks, audit log, alert outbox, scratch. */
    public LocalRepository home() {
        return home;
    }

    /** The home repository as configured (wrapped), for writes that go through the contract. */
    public Repository homeRepository() {
        return get(home.name());
    }

    public boolean isConfigured(String name) {
        return all.stream().anyMatch(r -> r.name().equals(name));
    }

    /** The repository called {@code name}; a usage error naming the configured ones when there is none. */
    public Repository get(String name) {
        for (Repository repository : all) {
            if (repository.name().equals(name)) {
                return repository;
            }
        }
        if (!named && S3.equals(name)) {
            throw StowageException.usage("repository 's3' is not configured; HINT: set STOWAGE_S3_BUCKET");
        }
        throw StowageException.usage("unknown repository '" + name + "': the repositories are "
                + String.join(", ", names()) + (named ? " (stowage.repositories)" : ""));
    }

    /** Every repository, in the configured order. */
    public List<Repository> all() {
        return all;
    }

    public List<String> names() {
        List<String> names = new ArrayList<>();
        all.forEach(r -> names.add(r.name()));
        return names;
    }

    public Attributes attributes(String name) {
        Attributes found = attributes.get(name);
        if (found == null) {
            get(name);
            throw new IllegalStateException("repository '" + name + "' has no attributes");
        }
        return found;
    }

    /**
     * The repositories of {@code job}, in the configured order: those its {@code repositories} parameter names
     * (comma-separated), or all when it is blank. The first is the one its backups are written to from the stream.
     * A usage error for a name that is not configured, or for a parameter that names none.
     */
    public List<Repository> forJob(Job job) {
        String parameter = job.parameters().get("repositories");
        if (parameter == null || parameter.isBlank()) {
            return all;
        }
        List<String> wanted = parse(parameter);
        if (wanted.isEmpty()) {
            throw StowageException.usage("job '" + job.name() + "': repositories '" + parameter.strip()
                    + "' names no repository; HINT: name some of " + String.join(", ", names())
                    + ", or leave it blank for all");
        }
        for (String name : wanted) {
            if (!isConfigured(name)) {
                throw StowageException.usage("job '" + job.name() + "' names repository '" + name + "', which is not "
                        + "configured; HINT: the repositories are " + String.join(", ", names())
                        + (named ? " (stowage.repositories)" : ""));
            }
        }
        return all.stream().filter(r -> wanted.contains(r.name())).toList();
    }

    /** The names of a comma-separated list, stripped, blanks left out. */
    public static List<String> parse(String list) {
        List<String> names = new ArrayList<>();
        for (String part : list.split(",")) {
            String name = part.strip();
            if (!name.isEmpty() && !names.contains(name)) {
                names.add(name);
            }
        }
        return names;
    }

    /** The attributes of every repository, in order (for check and the 3-2-1 rule). */
    public Map<String, Attributes> attributes() {
        Map<String, Attributes> ordered = new LinkedHashMap<>();
        all.forEach(r -> ordered.put(r.name(), attributes.get(r.name())));
        return ordered;
    }

    /** A configured repository other than {@code name}'s, when there is one: for hints. */
    public Optional<Repository> other(String name) {
        return all.stream().filter(r -> !r.name().equals(name)).findFirst();
    }
}
