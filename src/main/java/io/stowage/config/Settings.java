package io.stowage.config;

import io.stowage.StowageException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.camel.spi.PropertiesComponent;

/**
 * The {@code stowage.*} settings of application.properties, read once at start through one table of the keys
 * Stowage knows, each with its type and bounds. A key that is not in the table is refused (a typo would otherwise be
 * ignored and its default used without a word), and a value that does not fit its type is refused naming its key.
 * Keys under {@code camel.*} are Camel's: Camel refuses unknown keys in the groups it reads, and this table refuses the
 * groups it does not read, which Camel would ignore.
 *
 * <p>A key written with a {@code <name>} segment stands for a family (for example the named repositories'
 * {@code stowage.repository.<name>.path}): adding such a row is all a new family needs here.
 */
public final class Settings {
    /** What a value must be. */
    private enum Kind { TEXT, PATH, NUMBER, FLAG, CHOICE, POLICY }

    /** One row of the table: {@code fallback} is the value used when the key is absent or blank (null: none). */
    private record Key(String name, Kind kind, String fallback, long min, long max, List<String> choices) {
        boolean matches(String key) {
            return name.contains("<name>")
                    ? Pattern.matches(Pattern.quote(name).replace("<name>", "\\E[a-z0-9][a-z0-9_-]*\\Q"), key)
                    : name.equals(key);
        }

        /** The value as its type, or an IllegalArgumentException saying what it must be. */
        Object parse(String value) {
            return switch (kind) {
                case TEXT -> value;
                case POLICY -> RetentionPolicy.parse(value).text();
                case PATH -> parsePath(value);
                case NUMBER -> wholeNumber(value, min, max);
                case FLAG -> parseFlag(value);
                case CHOICE -> choices.stream().filter(value::equalsIgnoreCase).findFirst().orElseThrow(
                        () -> new IllegalArgumentException("must be one of " + String.join(", ", choices)));
            };
        }
    }

    private static final List<Key> KEYS = List.of(
            pathKey("stowage.repository.local.path", "./backups"),
            textKey("stowage.repository.s3.bucket"),
            textKey("stowage.repository.s3.prefix"),
            textKey("stowage.repository.s3.endpoint"),
            textKey("stowage.repository.s3.region"),
            numberKey("stowage.repository.s3.part-size", 16_777_216, io.stowage.repository.S3Repository.MIN_PART_SIZE,
                    Integer.MAX_VALUE),
            choiceKey("stowage.repository.s3.checksum", "sha256", "off"),
            numberKey("stowage.repository.s3.connect-timeout-seconds", 5, 1, 3600),
            numberKey("stowage.repository.s3.read-timeout-seconds", 30, 1, 3600),
            numberKey("stowage.repository.s3.call-timeout-seconds", 60, 1, 86_400),
            numberKey("stowage.repository.s3.transfer-timeout-seconds", 900, 1, 86_400),
            // Named repositories (docs/repositories.md): the list, in the order restores prefer, and each one's keys.
            textKey("stowage.repositories"),
            new Key("stowage.repository.<name>.type", Kind.CHOICE, null, 0, 0, List.of("local", "s3")),
            pathKey("stowage.repository.<name>.path", null),
            textKey("stowage.repository.<name>.bucket"),
            textKey("stowage.repository.<name>.prefix"),
            textKey("stowage.repository.<name>.endpoint"),
            textKey("stowage.repository.<name>.region"),
            numberKey("stowage.repository.<name>.part-size", 16_777_216,
                    io.stowage.repository.S3Repository.MIN_PART_SIZE, Integer.MAX_VALUE),
            choiceKey("stowage.repository.<name>.checksum", "sha256", "off"),
            // How long one call to an S3 repository may take (S3Settings.Timeouts).
            numberKey("stowage.repository.<name>.connect-timeout-seconds", 5, 1, 3600),
            numberKey("stowage.repository.<name>.read-timeout-seconds", 30, 1, 3600),
            numberKey("stowage.repository.<name>.call-timeout-seconds", 60, 1, 86_400),
            numberKey("stowage.repository.<name>.transfer-timeout-seconds", 900, 1, 86_400),
            new Key("stowage.repository.<name>.media", Kind.CHOICE, null, 0, 0,
                    List.of("disk", "nas", "object", "tape")),
            new Key("stowage.repository.<name>.offsite", Kind.FLAG, null, 0, 0, List.of()),
            // The retention policy of every job in the repository (a job's retention parameter wins): docs/retention.md.
            new Key("stowage.repository.<name>.retention", Kind.POLICY, null, 0, 0, List.of()),
            // Retries of one repository call that failed transiently (RetryingRepository), not of a whole backup.
            numberKey("stowage.repository.retry.attempts", 3, 1, 100),
            numberKey("stowage.repository.retry.delay-ms", 500, 0,
                    io.stowage.repository.RetryingRepository.MAX_DELAY.toMillis()),
            // Recipients and the work factor are checked by AgeKeys, which knows what an age key looks like.
            textKey("stowage.encryption.recipients"),
            pathKey("stowage.encryption.identity-file", null),
            pathKey("stowage.encryption.passphrase-file", null),
            textKey("stowage.encryption.passphrase-work-factor"),
            // Checked with each schedule, which names the schedule that uses it.
            textKey("stowage.schedule.time-zone"),
            numberKey("stowage.schedule.lock-wait-seconds", 3600, 0, Long.MAX_VALUE / 1_000_000_000L),
            numberKey("stowage.retry.attempts", 3, 1, Integer.MAX_VALUE),
            numberKey("stowage.retry.delay-ms", 60_000, 1, Long.MAX_VALUE),
            numberKey("stowage.retry.max-delay-ms", 1_800_000, 1, Long.MAX_VALUE),
            // Checked by Quartz when the verification route is created.
            textKey("stowage.verify.cron"),
            choiceKey("stowage.verify.jobs", "all", "critical"),
            numberKey("stowage.staleness.margin-seconds", 3600, 0, Long.MAX_VALUE / 1_000_000_000L),
            numberKey("stowage.staleness.check-interval-ms", 300_000, 1, Long.MAX_VALUE),
            numberKey("stowage.staleness.first-check-ms", 60_000, 0, Long.MAX_VALUE),
            textKey("stowage.alert.slack.webhook-url"),
            textKey("stowage.alert.slack.channel"),
            flagKey("stowage.alert.slack.notify-success", "false"),
            textKey("stowage.alert.pagerduty.routing-key"),
            textKey("stowage.alert.pagerduty.url"),
            numberKey("stowage.catch-up.interval-seconds", 60, 0, Long.MAX_VALUE / 1_000_000_000L),
            numberKey("stowage.catch-up.log-interval-seconds", 21_600, 0, Long.MAX_VALUE / 1_000_000_000L),
            numberKey("stowage.catch-up.lock-wait-seconds", 60, 0, Long.MAX_VALUE / 1_000_000_000L),
            numberKey("stowage.alert.retry.check-interval-ms", 10_000, 1, Long.MAX_VALUE),
            numberKey("stowage.alert.retry.delay-ms", 30_000, 1, Long.MAX_VALUE),
            numberKey("stowage.alert.retry.max-delay-ms", 900_000, 1, Long.MAX_VALUE),
            pathKey("stowage.scratch.path", null),
            // Expiry (docs/retention.md): when the service expires every job (besides after each successful backup),
            // how long it waits for a running backup of a job, and when a backup directory without a manifest is an
            // orphan (no backup anywhere can still be writing it).
            textKey("stowage.expire.cron"),
            numberKey("stowage.expire.lock-wait-seconds", 600, 0, Long.MAX_VALUE / 1_000_000_000L),
            numberKey("stowage.expire.incomplete-after-hours", 48, 1, 1_000_000),
            // How often the service probes each repository for /observe/health and stowage_repository_up.
            numberKey("stowage.health.repository-interval-seconds", 30, 1, 86_400),
            // Set by the runtime for its routes, not by operators.
            flagKey("stowage.service", "false"),
            pathKey(io.stowage.config.RouteSources.DIRECTORY_PROPERTY, null));

    /**
     * The groups Camel Main 4.18 reads (the prefixes in {@code BaseMainSupport}), spelt as Camel documents them; Camel
     * ignores a key in any other group.
     */
    private static final List<String> CAMEL_GROUPS = List.of("autoConfigurationSystemPropertiesEnabled", "beans",
            "component", "context", "dataformat", "debug", "devConsole", "faulttolerance", "globalOptions", "health",
            "language", "lra", "main", "management", "mdc", "metrics", "opentelemetry", "opentelemetry2",
            "resilience4j", "rest", "routeController", "routeTemplate", "server", "ssl", "startupcondition",
            "telemetryDev", "threadpool", "trace", "variable", "vault");

    private static final String KEYS_HINT = "HINT: the keys Stowage reads are listed in README.md, \"Configuration\"";

    private final Map<String, Object> values;

    private Settings(Map<String, Object> values) {
        this.values = values;
    }

    /** No key set: every value is its default. */
    public static Settings defaults() {
        return new Settings(Map.of());
    }

    /**
     * Reads and checks every key the configuration sets ({@code file} names it in messages, with the line). A usage
     * error for an unknown key, naming the closest known one, or for a value that does not fit its key.
     */
    public static Settings read(PropertiesComponent properties, Path file) {
        List<String> lines = lines(file);
        Map<String, Object> values = new HashMap<>();
        java.util.Properties loaded = properties.loadProperties();
        for (String name : new TreeSet<>(loaded.stringPropertyNames())) {
            String prefix = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
            if (prefix.equals("camel")) {
                checkCamelGroup(name, place(file, lines, name));
                continue;
            }
            if (!prefix.equals("stowage")) {
                String meant = "stowage" + name.substring(prefix.length());
                if (KEYS.stream().anyMatch(k -> k.matches(meant))) {
                    throw StowageException.usage("unknown key '" + name + "' (" + place(file, lines, name)
                            + "); HINT: did you mean '" + meant + "'?");
                }
                continue; // the operator's own placeholders, for their own routes
            }
            Key key = KEYS.stream().filter(k -> k.matches(name)).findFirst().orElseThrow(() -> StowageException.usage(
                    "unknown key '" + name + "' (" + place(file, lines, name) + "); " + Suggestions.closest(name,
                            candidates(name)).map(k -> "HINT: did you mean '" + k + "'?")
                            .orElse(KEYS_HINT)));
            String value = resolve(properties, name, loaded.getProperty(name), () -> place(file, lines, name));
            if (value.isEmpty()) {
                continue;
            }
            try {
                values.put(name, key.parse(value));
            } catch (IllegalArgumentException e) {
                throw StowageException.usage(name + " = " + io.stowage.TerminalText.line(value) + ": "
                        + e.getMessage() + " (in "
                        + place(file, lines, name) + ")");
            }
        }
        return new Settings(values);
    }

    /**
     * The known keys to suggest for {@code name}: a family's keys spelt with the name {@code name} gives
     * ({@code stowage.repository.nas.pth}: {@code stowage.repository.nas.path}).
     */
    private static List<String> candidates(String name) {
        String[] parts = name.split("\\.", -1);
        String family = parts.length >= 4 && name.startsWith("stowage.repository.") ? parts[2] : null;
        return KEYS.stream().map(Key::name)
                .map(k -> family != null && k.contains("<name>") ? k.replace("<name>", family) : k).toList();
    }

    /** Whether the configuration gives {@code name} a value (not blank). */
    public boolean isSet(String name) {
        return values.containsKey(name);
    }

    /** The keys the configuration gives a value (not blank), in order. */
    public java.util.SortedSet<String> keys() {
        return new TreeSet<>(values.keySet());
    }

    /** Whether {@code name} is set to the value its key has by default (a shipped line left as it was). */
    public boolean isDefault(String name) {
        Key key = KEYS.stream().filter(k -> k.matches(name)).findFirst().orElse(null);
        return key != null && key.fallback() != null && key.parse(key.fallback()).equals(values.get(name));
    }

    /** A flag without a default: empty when it is not set. */
    public Optional<Boolean> flagIfSet(String name) {
        return Optional.ofNullable((Boolean) value(name));
    }

    /**
     * The value of {@code name}, stripped; empty when it is blank. Camel answers "no value" for a value whose
     * placeholder cannot be resolved, which would quietly bring in the key's default (no S3 bucket: no offsite copy;
     * no recipients: no encryption): such a value is refused, naming what is missing.
     */
    private static String resolve(PropertiesComponent properties, String name, String raw,
                                  java.util.function.Supplier<String> place) {
        Optional<String> value = properties.resolveProperty(name);
        if (value.isEmpty() && raw != null && !raw.isBlank()) {
            try {
                value = Optional.of(properties.parseUri(raw));
            } catch (IllegalArgumentException unresolved) {
                Placeholders.Problem problem = Placeholders.of(unresolved);
                throw StowageException.usage(name + ": " + problem.missing() + " (in " + place.get() + "); "
                        + problem.hint());
            }
        }
        return value.map(String::strip).orElse("");
    }

    /** A whole number from {@code min} to {@code max}, or an IllegalArgumentException saying what it must be. */
    public static long wholeNumber(String value, long min, long max) {
        String digits = value.strip();
        if (!digits.matches("[-+]?[0-9]+")) {
            throw new IllegalArgumentException("not a whole number");
        }
        long number;
        try {
            number = Long.parseLong(digits);
        } catch (NumberFormatException tooLong) {
            throw new IllegalArgumentException(digits.startsWith("-") ? "must be at least " + min
                    : "must be at most " + max);
        }
        if (number < min) {
            throw new IllegalArgumentException("must be at least " + min);
        }
        if (number > max) {
            throw new IllegalArgumentException("must be at most " + max);
        }
        return number;
    }

    public long number(String name) {
        return (Long) value(name);
    }

    public boolean flag(String name) {
        return (Boolean) value(name);
    }

    /** A text or choice setting; empty when absent or blank and without a default. */
    public Optional<String> text(String name) {
        return Optional.ofNullable((String) value(name));
    }

    public Optional<Path> path(String name) {
        return Optional.ofNullable((Path) value(name));
    }

    private Object value(String name) {
        Key key = KEYS.stream().filter(k -> k.matches(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(name + " is not in the table of settings"));
        Object value = values.get(name);
        return value != null || key.fallback() == null ? value : key.parse(key.fallback());
    }

    private static void checkCamelGroup(String name, String place) {
        String[] parts = name.split("[.\\[]", 3);
        String group = parts.length < 2 ? "" : parts[1];
        if (CAMEL_GROUPS.stream().anyMatch(g -> normal(g).equals(normal(group)))) {
            return;
        }
        throw StowageException.usage("unknown key '" + name + "' (" + place + "): Camel reads no keys under 'camel."
                + group + ".'; " + Suggestions.closest(normal(group), CAMEL_GROUPS)
                .map(g -> "HINT: did you mean 'camel." + g + ".'?")
                .orElse("HINT: Camel's own keys are listed in the camel-main documentation"));
    }

    /** Camel matches its groups without regard to case or dashes. */
    private static String normal(String group) {
        return group.toLowerCase(Locale.ROOT).replace("-", "");
    }

    /** {@code FILE, line N} of the last line setting {@code key} (the one that counts), or the file alone. */
    private static String place(Path file, List<String> lines, String key) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            String line = lines.get(i).stripLeading();
            if (line.startsWith(key) && (line.length() == key.length()
                    || " \t=:".indexOf(line.charAt(key.length())) >= 0)) {
                return file + ", line " + (i + 1);
            }
        }
        return String.valueOf(file);
    }

    private static List<String> lines(Path file) {
        return file == null ? List.of() : ConfigurationText.lines(file);
    }

    private static Key textKey(String name) {
        return new Key(name, Kind.TEXT, null, 0, 0, List.of());
    }

    private static Key pathKey(String name, String fallback) {
        return new Key(name, Kind.PATH, fallback, 0, 0, List.of());
    }

    private static Key numberKey(String name, long fallback, long min, long max) {
        return new Key(name, Kind.NUMBER, Long.toString(fallback), min, max, List.of());
    }

    private static Key flagKey(String name, String fallback) {
        return new Key(name, Kind.FLAG, fallback, 0, 0, List.of());
    }

    /** A choice among {@code choices}, the first being the default. */
    private static Key choiceKey(String name, String... choices) {
        return new Key(name, Kind.CHOICE, choices[0], 0, 0, List.of(choices));
    }

    private static Path parsePath(String value) {
        try {
            return Path.of(value);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("not a path");
        }
    }

    private static boolean parseFlag(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("must be true or false");
        };
    }
}
