package io.stowage.runtime;

import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repositories;
import io.stowage.repository.Repository;
import io.stowage.repository.RetryingRepository;
import io.stowage.repository.S3Repository;
import io.stowage.repository.S3Settings;

import io.stowage.StowageException;
import io.stowage.config.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Builds {@link Repositories} from the checked settings. With {@code stowage.repositories}, each name in it is a
 * repository of {@code stowage.repository.<name>.type} {@code local} (a {@code path}) or {@code s3} (a {@code bucket},
 * and {@code prefix}, {@code endpoint}, {@code region}, {@code part-size}, {@code checksum} as the shipped s3 keys),
 * with the attributes {@code media}, {@code offsite} and {@code region}. Without it, the shipped defaults: {@code local}
 * at {@code stowage.repository.local.path}, plus {@code s3} when {@code stowage.repository.s3.bucket} is set.
 *
 * <p>Every mistake is a usage error (exit 2) on one line naming the file, the key and the fix: a name that is not
 * lowercase letters, digits and '-'; a repository without its type, path or bucket; a key for a repository that is
 * not in the list (a key left at its default value, as the shipped file's s3 part size and checksum, is not counted);
 * (nor the shipped {@code s3} lines while {@code stowage.repository.s3.bucket} is unset);
 * a key that does not belong to the repository's type; two repositories in one directory, or in one bucket and prefix
 * at one endpoint; and a list without a local-type repository (the home one, see {@link Repositories#home()}).
 */
public final class RepositoryConfiguration {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
    private static final String KEY = "stowage.repository.";
    private static final List<String> COMMON = List.of("type", "media", "offsite", "region", "retention");
    private static final List<String> LOCAL_KEYS = List.of("path");
    private static final List<String> S3_KEYS = List.of("bucket", "prefix", "endpoint", "part-size", "checksum",
            "connect-timeout-seconds", "read-timeout-seconds", "call-timeout-seconds", "transfer-timeout-seconds");
    /** Names under stowage.repository. that are settings of their own, not repositories. */
    private static final List<String> RESERVED = List.of("retry");

    private final Settings settings;
    private final String file;
    private final Function<S3Settings, S3Client> clients;

    /**
     * @param file    the configuration file, for messages
     * @param clients makes the S3 client of a repository's settings; repositories with the same endpoint and region
     *                share one, so a copy between them is made server-side
     */
    public RepositoryConfiguration(Settings settings, Path file, Function<S3Settings, S3Client> clients) {
        this.settings = settings;
        this.file = file == null ? "application.properties" : file.toString();
        this.clients = clients;
    }

    /** The repositories, each wrapped for retries ({@code stowage.repository.retry.*}). */
    public Repositories build() {
        boolean named = settings.isSet("stowage.repositories");
        List<String> names = named ? declaredNames() : defaultNames();
        int attempts = Math.toIntExact(settings.number("stowage.repository.retry.attempts"));
        Duration delay = Duration.ofMillis(settings.number("stowage.repository.retry.delay-ms"));
        Map<String, S3Client> shared = new HashMap<>();
        List<Repository> repositories = new ArrayList<>();
        Map<String, Repositories.Attributes> attributes = new LinkedHashMap<>();
        Map<String, String> places = new HashMap<>();
        for (String name : names) {
            String type = named ? settings.text(key(name, "type")).orElseThrow() : (name.equals("s3") ? "s3" : "local");
            Repository driver;
            String region;
            if (type.equals("local")) {
                Path path = settings.path(key(name, "path")).orElseThrow();
                driver = new LocalRepository(name, path);
                unique(places, "path " + realPath(path), name, "directory " + realPath(path));
                region = settings.text(key(name, "region")).orElse("");
            } else {
                S3Settings s3 = s3Settings(name);
                S3Client client = shared.computeIfAbsent(s3.endpoint().strip() + "|" + s3.region().strip() + "|"
                        + s3.timeouts().connect() + "|" + s3.timeouts().read(), k -> clients.apply(s3));
                driver = new S3Repository(name, client, s3.bucket().strip(), s3.prefix(), s3.partSize(),
                        s3.checksums(), s3.timeouts());
                unique(places, "s3 " + s3.endpoint().strip() + " " + driver.location(), name, driver.location()
                        + (s3.endpoint().isBlank() ? "" : " at " + s3.endpoint().strip()));
                region = s3.region().strip();
            }
            Repositories.Attributes defaults = type.equals("local") ? Repositories.Attributes.local()
                    : Repositories.Attributes.s3(region);
            attributes.put(name, new Repositories.Attributes(type,
                    settings.text(key(name, "media")).orElse(defaults.media()),
                    settings.flagIfSet(key(name, "offsite")).orElse(defaults.offsite()), region));
            repositories.add(new RetryingRepository(driver, attempts, delay));
        }
        if (repositories.stream().map(Repository::unwrap).noneMatch(LocalRepository.class::isInstance)) {
            throw StowageException.usage("stowage.repositories (" + file + ") names no repository of type local; "
                    + "HINT: add one (stowage.repository.NAME.type = local, with a path): the first local one holds "
                    + "the locks, the audit log and the alert outbox");
        }
        checkKeys(names, named);
        return new Repositories(repositories, attributes, named);
    }

    /** The S3 settings of repository {@code name}. */
    private S3Settings s3Settings(String name) {
        return new S3Settings(settings.text(key(name, "bucket")).orElse(""),
                settings.text(key(name, "prefix")).orElse(""),
                settings.text(key(name, "endpoint")).orElse(""),
                settings.text(key(name, "region")).orElse(""),
                Math.toIntExact(settings.number(key(name, "part-size"))),
                S3Settings.checksums(settings.text(key(name, "checksum")).orElseThrow()),
                new S3Settings.Timeouts(seconds(name, "connect-timeout-seconds"), seconds(name, "read-timeout-seconds"),
                        seconds(name, "call-timeout-seconds"), seconds(name, "transfer-timeout-seconds")));
    }

    private Duration seconds(String name, String property) {
        return Duration.ofSeconds(settings.number(key(name, property)));
    }

    private List<String> declaredNames() {
        String list = settings.text("stowage.repositories").orElseThrow();
        List<String> names = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            String name = part.strip();
            if (name.isEmpty()) {
                throw usage("stowage.repositories = " + list + ": an empty name; HINT: separate names by single "
                        + "commas");
            }
            if (!NAME.matcher(name).matches() || RESERVED.contains(name)) {
                throw usage("stowage.repositories: '" + io.stowage.TerminalText.line(name) + "' is not a repository "
                        + "name; HINT: use lowercase letters, digits and '-'" + (RESERVED.contains(name)
                        ? " (and not " + String.join(", ", RESERVED) + ")" : ""));
            }
            if (names.contains(name)) {
                throw usage("stowage.repositories names '" + name + "' twice; HINT: name each repository once");
            }
            names.add(name);
        }
        for (String name : names) {
            if (!settings.isSet(key(name, "type"))) {
                throw usage("stowage.repositories names '" + name + "' but " + key(name, "type") + " is not set; "
                        + "HINT: set it to local or s3");
            }
            String type = settings.text(key(name, "type")).orElseThrow();
            String needed = type.equals("local") ? "path" : "bucket";
            if (!settings.isSet(key(name, needed))) {
                throw usage("repository '" + name + "' is of type " + type + " but " + key(name, needed)
                        + " is not set; HINT: set it to the " + (type.equals("local") ? "directory" : "bucket")
                        + " that holds its backups");
            }
        }
        return names;
    }

    private List<String> defaultNames() {
        List<String> names = new ArrayList<>(List.of(Repositories.LOCAL));
        if (settings.text(key("s3", "bucket")).filter(b -> !b.isBlank()).isPresent()) {
            names.add(Repositories.S3);
        }
        return names;
    }

    /** Every stowage.repository.NAME.* key set belongs to a repository of the list, and to its type. */
    private void checkKeys(List<String> names, boolean named) {
        for (String key : settings.keys()) {
            if (!key.startsWith(KEY) || key.startsWith(KEY + "retry.")) {
                continue;
            }
            String rest = key.substring(KEY.length());
            int dot = rest.indexOf('.');
            String name = rest.substring(0, dot);
            String property = rest.substring(dot + 1);
            if (!names.contains(name)) {
                if (settings.isDefault(key) || (name.equals("s3") && !settings.isSet(key("s3", "bucket")))) {
                    // A shipped line left at its default, or the shipped s3 lines without a bucket (their region
                    // and endpoint read AWS_REGION and AWS_ENDPOINT_URL_S3, which may be set for other reasons).
                    continue;
                }
                throw usage(key + " is set but there is no repository '" + name + "'" + (named
                        ? "; HINT: add '" + name + "' to stowage.repositories, or remove the key"
                        : " (without stowage.repositories there are local and s3); HINT: list your repositories in "
                        + "stowage.repositories"));
            }
            String type = named ? settings.text(key(name, "type")).orElse("local")
                    : (name.equals("s3") ? "s3" : "local");
            if (!named && property.equals("type") && !settings.text(key).orElseThrow().equals(type)) {
                throw usage(key + " = " + settings.text(key).orElseThrow() + ": without stowage.repositories, '"
                        + name + "' is of type " + type + "; HINT: list your repositories in stowage.repositories");
            }
            List<String> own = type.equals("local") ? LOCAL_KEYS : S3_KEYS;
            if (!COMMON.contains(property) && !own.contains(property) && !settings.isDefault(key)) {
                throw usage(key + " does not apply to repository '" + name + "', of type " + type + "; HINT: a "
                        + type + " repository takes " + String.join(", ", concat(COMMON, own)));
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private void unique(Map<String, String> places, String place, String name, String described) {
        String other = places.putIfAbsent(place, name);
        if (other != null) {
            throw usage("repositories '" + other + "' and '" + name + "' are both " + described + "; HINT: give each "
                    + "repository a place of its own (a catalog read twice would count every backup twice)");
        }
    }

    /** The real absolute path: links resolved as far as the path exists. */
    static Path realPath(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute));
        } catch (IOException e) {
            return absolute;
        }
    }

    private static String key(String name, String property) {
        return KEY + name + "." + property;
    }

    private StowageException usage(String message) {
        return StowageException.usage(message + " (" + file + ")");
    }
}
