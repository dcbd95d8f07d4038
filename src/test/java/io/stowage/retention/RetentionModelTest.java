package io.stowage.retention;

import static org.junit.jupiter.api.Assertions.fail;

import io.stowage.FileTrees;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.catalog.Pins;
import io.stowage.config.Settings;
import io.stowage.engine.postgresql.PgDetails;
import io.stowage.job.Job;
import io.stowage.job.JobRegistry;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repositories;
import io.stowage.runtime.EngineCatalog;
import io.stowage.services.StowageServices;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention against a model: random histories of a PostgreSQL physical job (fulls, differentials and incrementals,
 * continuous WAL with now and then a timeline switch, pins, copies that differ between two or three local
 * repositories, copies damaged by hand, directories left without a manifest) under random policies, expired by the
 * real {@link Expiry} after every backup on a fake clock, and checked after every expiry by an oracle written here,
 * from the model's own record of each backup and the repositories' files, not from the planner.
 *
 * <p>Each case has its seed; a failure names it. Replay one with {@code -Dstowage.model.seed=<seed>}; run more with
 * {@code -Dstowage.model.cases=<n>}.
 */
class RetentionModelTest {
    private static final String JOB = "pg";
    private static final long SEGMENT_SIZE = 16L << 20;
    private static final long SEGMENTS_PER_ID = 0x100000000L / SEGMENT_SIZE;
    private static final long FIRST_SEED = 20_261_201L;
    private static final int CASES = Integer.getInteger("stowage.model.cases", 200);
    private static final java.util.regex.Pattern BACKUP_HISTORY_FILE =
            java.util.regex.Pattern.compile("[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup\\.zst(\\.sha256)?");
    private static final java.util.regex.Pattern BACKUP_ID = java.util.regex.Pattern.compile("\\d{8}T\\d{6}Z-[FDI]");
    /** What the cases did, summed over all of them: printed, and each must have happened (the model exercises it). */
    private static final Map<String, java.util.concurrent.atomic.LongAdder> COVERED =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    private static final String MANIFEST = "manifest.json";
    private static final String PIN = "pinned.json";
    private static final String WAL_EXTENSION = ".zst";
    private static final String CHECKSUM = ".sha256";

    /** Only for reading settings as the service does: a properties component needs a context. */
    private static final org.apache.camel.CamelContext CAMEL = new org.apache.camel.impl.DefaultCamelContext();

    @TempDir
    Path temp;

    @Test
    void should_keep_every_invariant_over_random_histories_and_policies() throws Exception {
        String one = System.getProperty("stowage.model.seed");
        List<Long> seeds = one != null ? List.of(Long.parseLong(one))
                : LongStream.range(0, CASES).map(i -> FIRST_SEED + i).boxed().toList();
        ch.qos.logback.classic.Logger expiryLog = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(Expiry.class);
        ch.qos.logback.classic.Level level = expiryLog.getLevel();
        expiryLog.setLevel(ch.qos.logback.classic.Level.WARN);
        Path base = workDirectory();
        Map<Long, String> failed = new java.util.concurrent.ConcurrentSkipListMap<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
                Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
        try {
            // Each case has its own repositories, services and clock: they run side by side, each deterministic.
            List<java.util.concurrent.Future<?>> runs = new ArrayList<>();
            for (long seed : seeds) {
                runs.add(pool.submit(() -> {
                    Path dir = base.resolve("case-" + seed);
                    try {
                        new Case(seed, dir).run();
                    } catch (AssertionError e) {
                        failed.put(seed, e.getMessage());
                    } catch (Exception | Error e) {
                        failed.put(seed, "seed " + seed + " (replay: -Dstowage.model.seed=" + seed + "): " + e
                                + "\n" + java.util.Arrays.stream(e.getStackTrace()).limit(12).map(f -> "  at " + f)
                                .collect(Collectors.joining("\n")));
                    } finally {
                        FileTrees.deleteQuietly(dir);
                    }
                }));
            }
            for (java.util.concurrent.Future<?> run : runs) {
                run.get();
            }
        } finally {
            pool.shutdownNow();
            expiryLog.setLevel(level);
            if (!base.equals(temp)) {
                FileTrees.deleteQuietly(base);
            }
        }
        System.out.println("retention model: " + seeds.size() + " case(s): " + COVERED);
        if (!failed.isEmpty()) {
            fail(failed.size() + " of " + seeds.size() + " cases failed, seeds " + failed.keySet() + "; each first "
                    + "failure:\n" + failed.values().stream().map(m -> m.lines().findFirst().orElse(""))
                    .collect(Collectors.joining("\n")) + "\nthe first in full:\n" + failed.values().iterator().next());
        }
        if (seeds.size() >= 100) {
            for (String what : List.of("expiries", "backups", "backups expired", "log objects expired",
                    "orphans removed", "copies not made", "copies damaged", "pins", "timeline switches",
                    "interrupted expiries", "policy count", "policy window", "policy generations",
                    "policy per repository", "policy of the job")) {
                org.junit.jupiter.api.Assertions.assertTrue(COVERED.containsKey(what) && COVERED.get(what).sum() > 0,
                        "no case exercised " + what + ": " + COVERED);
            }
        }
    }

    private static void count(String what, long n) {
        COVERED.computeIfAbsent(what, k -> new java.util.concurrent.atomic.LongAdder()).add(n);
    }

    /** Memory-backed when the machine has it: the cases write many small files. */
    private Path workDirectory() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return Files.createTempDirectory(shm, "retention-model-");
        }
        return temp;
    }

    /** A policy as the oracle reads it: exactly one of count, window (amount and unit) or the four GFS counts. */
    private record Policy(String text, int count, int amount, char unit, int days, int weeks, int months, int years) {
        boolean isCount() {
            return count > 0;
        }

        boolean isWindow() {
            return amount > 0;
        }

        boolean isGenerations() {
            return !isCount() && !isWindow();
        }

        /** Where a window starts, seen at {@code now}: calendar months and years in UTC. */
        Instant windowStart(Instant now) {
            java.time.OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
            return switch (unit) {
                case 'd' -> now.minus(Duration.ofDays(amount));
                case 'w' -> now.minus(Duration.ofDays(7L * amount));
                case 'm' -> at.minusMonths(amount).toInstant();
                default -> at.minusYears(amount).toInstant();
            };
        }
    }

    /** The rules of the job in one repository; a null policy: nothing expires there. */
    private record Rules(Policy policy, Integer diff, Integer incr, Integer log) {
        String describe() {
            return (policy == null ? "no policy" : "policy " + policy.text()) + (diff == null ? "" : ", retentionDiff "
                    + diff) + (incr == null ? "" : ", retentionIncr " + incr) + (log == null ? "" : ", logRetention "
                    + log);
        }
    }

    /** A backup as the model took it. Positions are WAL segment numbers; {@code timeline} is its WAL's. */
    private record Backup(String id, BackupType type, String parent, Instant started, Instant finished, int timeline,
                          long startPos, long stopPos, List<String> objects) {
    }

    /**
     * What one repository holds of the job: each backup directory's file names, the WAL archive's, and the positions
     * of its archived segments and of their checksum files (whatever their timeline).
     */
    private record Snap(TreeMap<String, TreeSet<String>> dirs, TreeSet<String> wal, TreeSet<Long> segments,
                        TreeSet<Long> checksums) {
        static Snap of(TreeMap<String, TreeSet<String>> dirs, TreeSet<String> wal) {
            TreeSet<Long> segments = new TreeSet<>();
            TreeSet<Long> checksums = new TreeSet<>();
            for (String file : wal) {
                if (isSegmentFile(file)) {
                    (file.endsWith(CHECKSUM) ? checksums : segments).add(position(file));
                }
            }
            return new Snap(dirs, wal, segments, checksums);
        }

        boolean complete(String id) {
            TreeSet<String> files = dirs.get(id);
            return files != null && files.contains(MANIFEST);
        }

        List<String> backups() {
            return dirs.keySet().stream().filter(this::complete).toList();
        }

        List<String> orphans() {
            return dirs.keySet().stream().filter(id -> !complete(id)).toList();
        }
    }

    private static final class FakeClock extends Clock {
        private Instant now;

        FakeClock(Instant now) {
            this.now = now;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private static String segment(int timeline, long position) {
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, position / SEGMENTS_PER_ID,
                position % SEGMENTS_PER_ID);
    }

    private static String lsn(long position, long offset) {
        long at = position * SEGMENT_SIZE + offset;
        return String.format(Locale.ROOT, "%X/%X", at >>> 32, at & 0xFFFFFFFFL);
    }

    /** The position of an archived segment or backup history file ({@code <segment>...}); -1 for anything else. */
    private static long position(String file) {
        if (file.length() < 24) {
            return -1;
        }
        for (int i = 0; i < 24; i++) {
            char c = file.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'F')) {
                return -1;
            }
        }
        return Long.parseLong(file, 8, 16, 16) * SEGMENTS_PER_ID + Long.parseLong(file, 16, 24, 16);
    }

    /** A segment's archived object or its checksum file: {@code <segment>.zst}, {@code <segment>.zst.sha256}. */
    private static boolean isSegmentFile(String file) {
        return (file.length() == 28 && file.endsWith(WAL_EXTENSION) || file.length() == 35
                && file.endsWith(WAL_EXTENSION + CHECKSUM)) && position(file) >= 0;
    }

    private static boolean isBackupHistoryFile(String file) {
        return BACKUP_HISTORY_FILE.matcher(file).matches();
    }

    /** One random history, expired after every backup and checked after every expiry. */
    private static final class Case {
        private final long seed;
        private final Random random;
        private final Path dir;
        private final FakeClock clock;
        private final List<LocalRepository> repositories = new ArrayList<>();
        private final Map<String, Rules> rules = new LinkedHashMap<>();
        private final Map<String, String> parameters = new TreeMap<>();
        private final Properties properties = new Properties();
        private long incompleteHours;
        private Expiry expiry;

        /** Every backup the model ever took, by id. */
        private final Map<String, Backup> backups = new TreeMap<>();
        /** Objects the test deleted by hand, by repository and backup. */
        private final Map<String, Map<String, Set<String>>> damaged = new HashMap<>();
        private final Set<String> historyFiles = new TreeSet<>();
        private String lastFull;
        private String lastInChain;
        private int timeline = 1;
        /** The segment being written: every one before it is archived. */
        private long position;
        private int step;
        private final List<String> events = new ArrayList<>();
        /** What happened after the last step's checks, for the next step's messages. */
        private final List<String> carried = new ArrayList<>();

        Case(long seed, Path dir) {
            this.seed = seed;
            this.random = new Random(seed);
            this.dir = dir;
            Instant start = Instant.parse("2025-01-01T00:00:00Z").plus(Duration.ofMinutes(random.nextInt(365 * 24
                    * 60)));
            this.clock = new FakeClock(start);
        }

        void run() throws Exception {
            configure();
            position = 0x10 + random.nextInt(0x300);
            archive(1 + random.nextInt(3));
            int steps = 16 + random.nextInt(17);
            for (step = 0; step < steps; step++) {
                events.clear();
                events.addAll(carried);
                carried.clear();
                advance();
                if (step > 0) {
                    randomEvents();
                }
                if (step == 0 || random.nextInt(100) < 85) {
                    backup();
                }
                expireAndCheck();
            }
        }

        // ---------------------------------------------------------------- configuration

        private void configure() throws IOException {
            int count = 2 + random.nextInt(2);
            List<String> names = List.of("local", "nas", "far").subList(0, count);
            Map<String, Repositories.Attributes> attributes = new HashMap<>();
            for (String name : names) {
                repositories.add(new LocalRepository(name, Files.createDirectories(dir.resolve(name))));
                attributes.put(name, Repositories.Attributes.local());
            }
            boolean jobPolicy = random.nextInt(100) < 55;
            Policy own = jobPolicy ? randomPolicy() : null;
            if (own != null) {
                parameters.put("retention", own.text());
            }
            Integer diff = random.nextInt(100) < 35 ? 1 + random.nextInt(30) : null;
            Integer incr = random.nextInt(100) < 35 ? 1 + random.nextInt(14) : null;
            Integer log = random.nextInt(100) < 45 ? 1 + random.nextInt(60) : null;
            putDays("retentionDiff", diff);
            putDays("retentionIncr", incr);
            putDays("logRetention", log);
            for (String name : names) {
                // A repository's own policy; the job's parameter wins where both are set.
                Policy property = random.nextInt(100) < (jobPolicy ? 30 : 75) ? randomPolicy() : null;
                if (property != null) {
                    properties.setProperty("stowage.repository." + name + ".retention", property.text());
                }
                Rules these = new Rules(own != null ? own : property, diff, incr, log);
                rules.put(name, these);
                if (these.policy() != null) {
                    count(own != null ? "policy of the job" : "policy per repository", 1);
                    count(these.policy().isCount() ? "policy count" : these.policy().isWindow() ? "policy window"
                            : "policy generations", 1);
                }
            }
            incompleteHours = List.of(1L, 6L, 24L, 48L, 72L).get(random.nextInt(5));
            properties.setProperty("stowage.expire.incomplete-after-hours", Long.toString(incompleteHours));

            Repositories configured = new Repositories(List.copyOf(repositories), attributes, true);
            StowageServices services = new StowageServices(configured, EngineCatalog.engines());
            org.apache.camel.component.properties.PropertiesComponent component =
                    new org.apache.camel.component.properties.PropertiesComponent();
            component.setCamelContext(CAMEL);
            component.setInitialProperties(properties);
            component.start();
            services.settings(Settings.read(component, null));
            component.stop();
            Job job = new Job(JOB, "postgresql", "physical", "backup-" + JOB, parameters);
            services.jobs(JobRegistry.of(Map.of(JOB, job)));
            expiry = new Expiry(services, (name, wait) -> Optional.of(() -> { }), clock);
        }

        private void putDays(String parameter, Integer days) {
            if (days != null) {
                parameters.put(parameter, random.nextBoolean() ? days + "d" : days.toString());
            }
        }

        private Policy randomPolicy() {
            switch (random.nextInt(3)) {
                case 0 -> {
                    int n = 1 + random.nextInt(5);
                    return new Policy(Integer.toString(n), n, 0, ' ', 0, 0, 0, 0);
                }
                case 1 -> {
                    char unit = "dwmy".charAt(random.nextInt(4));
                    int amount = switch (unit) {
                        case 'd' -> 1 + random.nextInt(60);
                        case 'w' -> 1 + random.nextInt(10);
                        case 'm' -> 1 + random.nextInt(8);
                        default -> 1;
                    };
                    return new Policy(amount + String.valueOf(unit), 0, amount, unit, 0, 0, 0, 0);
                }
                default -> {
                    int[] counts = new int[4];
                    int[] bounds = {14, 8, 12, 3};
                    while (java.util.Arrays.stream(counts).filter(c -> c > 0).count() < 2) {
                        int slot = random.nextInt(4);
                        counts[slot] = 1 + random.nextInt(bounds[slot]);
                    }
                    List<String> terms = new ArrayList<>();
                    for (int slot = 0; slot < 4; slot++) {
                        if (counts[slot] > 0) {
                            terms.add(counts[slot] + String.valueOf("dwmy".charAt(slot)));
                        }
                    }
                    java.util.Collections.shuffle(terms, random);
                    return new Policy(String.join(",", terms), 0, 0, ' ', counts[0], counts[1], counts[2], counts[3]);
                }
            }
        }

        // ---------------------------------------------------------------- history

        private void advance() throws IOException {
            int kind = random.nextInt(100);
            long minutes;
            int segments;
            if (kind < 40) {
                minutes = 60 + random.nextInt(11 * 60);
                segments = random.nextInt(4) == 0 ? 1 : 0;
            } else if (kind < 65) {
                minutes = 24 * 60 + random.nextInt(4 * 24 * 60);
                segments = random.nextInt(2);
            } else {
                minutes = 25 * 24 * 60 + random.nextInt(50 * 24 * 60);
                segments = 1 + random.nextInt(2);
            }
            archive(segments);
            clock.advance(Duration.ofMinutes(minutes));
        }

        /** {@code n} segments fill up and are archived into every repository. */
        private void archive(int n) throws IOException {
            for (int i = 0; i < n; i++) {
                archiveSegment();
            }
        }

        private void archiveSegment() throws IOException {
            writeWal(segment(timeline, position));
            position++;
        }

        private void writeWal(String walName) throws IOException {
            for (LocalRepository repository : repositories) {
                Path wal = repository.root().resolve(JOB).resolve("wal");
                Files.createDirectories(wal);
                byte[] bytes = (walName + " " + seed).getBytes(StandardCharsets.UTF_8);
                Files.write(wal.resolve(walName + WAL_EXTENSION), bytes);
                Files.writeString(wal.resolve(walName + WAL_EXTENSION + CHECKSUM), sha256(bytes) + "  " + walName
                        + WAL_EXTENSION + "\n");
            }
        }

        private void backup() throws IOException {
            BackupType type;
            int roll = random.nextInt(100);
            if (lastFull == null || roll < 35) {
                type = BackupType.FULL;
            } else if (roll < 60) {
                type = BackupType.DIFF;
            } else {
                type = BackupType.INCR;
            }
            Instant started = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            String id = BackupId.of(started, type);
            String parent = switch (type) {
                case FULL -> null;
                case DIFF -> lastFull;
                case INCR -> lastInChain;
            };
            long startPos = position;
            long startOffset = 0x28 + 8L * random.nextInt(1 << 20);
            archive(random.nextInt(3) == 0 ? 1 : 0);
            long stopPos = position;
            archiveSegment(); // the backup's end switches to a new segment: its last one is archived
            if (random.nextInt(3) == 0) {
                writeWal(segment(timeline, startPos) + String.format(Locale.ROOT, ".%08X.backup", startOffset));
            }
            clock.advance(Duration.ofMinutes(5 + random.nextInt(180)));
            Instant finished = clock.instant();
            List<String> objects = new ArrayList<>(List.of("base.tar.zst"));
            if (type == BackupType.FULL && random.nextBoolean()) {
                objects.add("16385.tar.zst");
            }
            if (random.nextInt(4) == 0) {
                objects.add("backup_manifest.zst");
            }
            Backup backup = new Backup(id, type, parent, started, finished, timeline, startPos, stopPos,
                    List.copyOf(objects));
            count("backups", 1);
            backups.put(id, backup);
            List<LocalRepository> holders = new ArrayList<>(repositories);
            for (LocalRepository repository : repositories) {
                if (random.nextInt(100) < 6 && holders.size() > 1) {
                    holders.remove(repository);
                }
            }
            Manifest manifest = manifest(backup);
            for (LocalRepository repository : repositories) {
                if (holders.contains(repository)) {
                    writeBackup(repository, backup, manifest);
                } else {
                    events.add("backup " + id + " not copied to " + repository.name());
                    count("copies not made", 1);
                    if (random.nextBoolean()) {
                        // The copy failed part-way: objects without a manifest.
                        writeObject(repository, id, objects.get(0));
                        events.add("partial copy of " + id + " left in " + repository.name());
                    }
                }
            }
            lastInChain = id;
            if (type == BackupType.FULL) {
                lastFull = id;
            }
        }

        private Manifest manifest(Backup b) {
            List<Manifest.StoredObject> objects = new ArrayList<>();
            for (String name : b.objects()) {
                byte[] bytes = content(b.id(), name);
                objects.add(new Manifest.StoredObject(name, bytes.length, bytes.length, sha256(bytes)));
            }
            PgDetails.Wal wal = new PgDetails.Wal(b.timeline(), lsn(b.startPos(), 0x28), lsn(b.stopPos(), 0x100),
                    segment(b.timeline(), b.startPos()), segment(b.timeline(), b.stopPos()), SEGMENT_SIZE);
            com.fasterxml.jackson.databind.node.ObjectNode details = ManifestCodec.JSON.createObjectNode();
            details.set("wal", ManifestCodec.JSON.valueToTree(wal));
            return new Manifest(Manifest.FORMAT_VERSION, b.id(), JOB, "postgresql", b.type(), "physical", b.parent(),
                    b.started(), b.finished(), 1000, 1000, new Manifest.Compression("zstd", 3), null,
                    List.copyOf(objects), new Manifest.Tool("pg_basebackup", "17.2"),
                    new Manifest.Server("17.2", Map.of()), null, details);
        }

        private static byte[] content(String id, String name) {
            return (id + "/" + name).getBytes(StandardCharsets.UTF_8);
        }

        private static void writeObject(LocalRepository repository, String id, String name) throws IOException {
            Path directory = repository.root().resolve(JOB).resolve(id);
            Files.createDirectories(directory);
            Files.write(directory.resolve(name), content(id, name));
        }

        private static void writeBackup(LocalRepository repository, Backup b, Manifest manifest) throws IOException {
            for (String name : b.objects()) {
                writeObject(repository, b.id(), name);
            }
            Files.write(repository.root().resolve(JOB).resolve(b.id()).resolve(MANIFEST),
                    ManifestCodec.write(manifest));
        }

        private void randomEvents() throws IOException {
            if (random.nextInt(100) < 4) {
                // A promotion: a new timeline from the segment being written, with its history file.
                timeline++;
                String history = String.format(Locale.ROOT, "%08X.history", timeline);
                writeWal(history);
                historyFiles.add(history + WAL_EXTENSION);
                historyFiles.add(history + WAL_EXTENSION + CHECKSUM);
                events.add("timeline " + timeline + " from position " + position);
                count("timeline switches", 1);
            }
            if (random.nextInt(100) < 5) {
                damageOne();
            }
            if (random.nextInt(100) < 6) {
                pinOne();
            }
            if (random.nextInt(100) < 2) {
                unpinOne();
            }
            if (random.nextInt(100) < 6) {
                crashOne();
            }
        }

        private LocalRepository anyRepository() {
            return repositories.get(random.nextInt(repositories.size()));
        }

        private String anyBackupIn(Snap snap) {
            List<String> ids = snap.backups();
            return ids.isEmpty() ? null : ids.get(random.nextInt(ids.size()));
        }

        /** Deletes one object of a copy by hand: the copy is damaged. */
        private void damageOne() throws IOException {
            LocalRepository repository = anyRepository();
            Snap snap = snapshot(repository);
            String id = anyBackupIn(snap);
            if (id == null) {
                return;
            }
            List<String> left = backups.get(id).objects().stream().filter(o -> snap.dirs().get(id).contains(o))
                    .toList();
            if (left.isEmpty()) {
                return;
            }
            String object = left.get(random.nextInt(left.size()));
            Files.delete(repository.root().resolve(JOB).resolve(id).resolve(object));
            damaged.computeIfAbsent(repository.name(), k -> new HashMap<>()).computeIfAbsent(id, k -> new HashSet<>())
                    .add(object);
            events.add("damaged " + id + " in " + repository.name() + " (" + object + " deleted)");
            count("copies damaged", 1);
        }

        private void pinOne() throws IOException {
            Snap snap = snapshot(anyRepository());
            String id = anyBackupIn(snap);
            if (id == null) {
                return;
            }
            boolean everywhere = random.nextInt(100) < 70;
            for (LocalRepository repository : repositories) {
                if (snapshot(repository).complete(id)) {
                    Pins.write(repository, new Pins.Pin(Pins.FORMAT_VERSION, JOB, id, clock.instant(), "model",
                            "test"));
                    if (!everywhere) {
                        break;
                    }
                }
            }
            events.add("pinned " + id + (everywhere ? " in every holder" : " in one holder"));
            count("pins", 1);
        }

        private void unpinOne() throws IOException {
            for (LocalRepository repository : repositories) {
                Snap snap = snapshot(repository);
                for (String id : snap.backups()) {
                    if (snap.dirs().get(id).contains(PIN)) {
                        for (LocalRepository each : repositories) {
                            Files.deleteIfExists(each.root().resolve(JOB).resolve(id).resolve(PIN));
                        }
                        events.add("unpinned " + id);
                        return;
                    }
                }
            }
        }

        /** A backup that died before its manifest: objects in a directory of an id from the last few days. */
        private void crashOne() throws IOException {
            LocalRepository repository = anyRepository();
            long seconds = random.nextLong(Math.max(2, 3 * incompleteHours) * 3600);
            Instant started = clock.instant().minusSeconds(seconds).truncatedTo(ChronoUnit.SECONDS);
            String id = BackupId.of(started, BackupType.values()[random.nextInt(3)]);
            if (backups.containsKey(id) || Files.exists(repository.root().resolve(JOB).resolve(id))) {
                return;
            }
            writeObject(repository, id, "base.tar.zst");
            if (random.nextBoolean()) {
                writeObject(repository, id, "16385.tar.zst");
            }
            events.add("crashed backup " + id + " left in " + repository.name());
        }

        // ---------------------------------------------------------------- expiry and checks

        private Map<String, Snap> snapshots() throws IOException {
            Map<String, Snap> snaps = new LinkedHashMap<>();
            for (LocalRepository repository : repositories) {
                snaps.put(repository.name(), snapshot(repository));
            }
            return snaps;
        }

        private static Snap snapshot(LocalRepository repository) throws IOException {
            TreeMap<String, TreeSet<String>> dirs = new TreeMap<>();
            TreeSet<String> wal = new TreeSet<>();
            Path job = repository.root().resolve(JOB);
            if (Files.isDirectory(job)) {
                try (var children = Files.list(job)) {
                    for (Path child : children.toList()) {
                        String name = child.getFileName().toString();
                        if (name.equals("wal")) {
                            try (var files = Files.list(child)) {
                                files.forEach(f -> wal.add(f.getFileName().toString()));
                            }
                        } else if (BACKUP_ID.matcher(name).matches()) {
                            TreeSet<String> files = new TreeSet<>();
                            try (var each = Files.list(child)) {
                                each.forEach(f -> files.add(f.getFileName().toString()));
                            }
                            if (!files.isEmpty()) { // an empty directory holds nothing: no key lists it
                                dirs.put(name, files);
                            }
                        }
                    }
                }
            }
            return Snap.of(dirs, wal);
        }

        /**
         * One expiry, as after a backup, checked against the oracle, decision by decision with its reasons; then a
         * second expiry right after it, which must find nothing to do. Now and then (chosen by the case's seed) a dry
         * run before it, which must change nothing and decide exactly what the expiry then decides.
         */
        private void expireAndCheck() throws Exception {
            Instant now = clock.instant();
            Map<String, Snap> before = snapshots();
            Expiry.Report dry = null;
            if (random.nextInt(4) == 0) {
                dry = expiry.run(new Expiry.Options(JOB, null, true));
                check(dry.failures().isEmpty(), null, "the dry run failed: " + dry.failures());
                check(snapshots().equals(before), null, "the dry run changed the repositories");
            }
            Expiry.Report report = expiry.run(new Expiry.Options(JOB, null, false));
            check(report.failures().isEmpty() && report.skipped().isEmpty(), null, "expiry failed: "
                    + report.failures() + report.skipped());
            count("expiries", 1);
            count("backups expired", report.expired());
            count("log objects expired", report.logObjects());
            count("orphans removed", report.orphans());
            Map<String, Snap> after = snapshots();
            for (LocalRepository repository : repositories) {
                String name = repository.name();
                Map<String, Planner.Decision> decided = decisions(report, name);
                if (dry != null) {
                    check(decisions(dry, name).equals(decided), name, "the dry run decided "
                            + decisions(dry, name).values() + ", the expiry " + decided.values());
                }
                new Check(name, rules.get(name), before, after, decided, now).run();
            }
            // Idempotent: a second expiry right after changes nothing.
            Expiry.Report again = expiry.run(new Expiry.Options(JOB, null, false));
            check(again.failures().isEmpty() && again.expired() == 0 && again.logObjects() == 0
                    && again.orphans() == 0, null, "a second expiry did something: " + again.expired()
                    + " backup(s), " + again.logObjects() + " log object(s), " + again.orphans() + " orphan(s) "
                    + again.failures() + again.lines() + "; it released " + again.rows().stream()
                    .filter(r -> !r.decision().keep()).map(r -> r.repository() + ": " + r.decision().backup().id()
                            + " (" + r.decision().reason() + "; the first expiry kept it: " + report.rows().stream()
                            .filter(f -> f.repository().equals(r.repository()) && f.decision().backup().id()
                                    .equals(r.decision().backup().id())).map(f -> f.decision().reason())
                            .findFirst().orElse("?") + ")").toList());
            check(snapshots().equals(after), null, "a second expiry changed the repositories");
            if (random.nextInt(100) < 8) {
                interrupt(before, after);
            }
        }

        /**
         * As if this expiry had been interrupted after deleting the manifest of a backup it released: one of the
         * backup's objects is still there, a directory without a manifest that the next expiries must remove.
         */
        private void interrupt(Map<String, Snap> before, Map<String, Snap> after) throws IOException {
            for (LocalRepository repository : repositories) {
                String name = repository.name();
                for (String id : before.get(name).backups()) {
                    if (!after.get(name).dirs().containsKey(id)) {
                        writeObject(repository, id, backups.get(id).objects().get(0));
                        carried.add("expiry of " + id + " in " + name + " interrupted after its manifest");
                        count("interrupted expiries", 1);
                        return;
                    }
                }
            }
        }

        private static Map<String, Planner.Decision> decisions(Expiry.Report report, String repository) {
            Map<String, Planner.Decision> decided = new TreeMap<>();
            report.rows().stream().filter(r -> r.repository().equals(repository))
                    .forEach(r -> decided.put(r.decision().backup().id(), r.decision()));
            return decided;
        }

        private void check(boolean condition, String repository, String what) {
            if (!condition) {
                fail(context(repository) + what);
            }
        }

        private String context(String repository) {
            return "seed " + seed + " (replay: -Dstowage.model.seed=" + seed + "), step " + step + ", at "
                    + clock.instant() + (repository == null ? "" : ", repository '" + repository + "' ("
                    + rules.get(repository).describe() + ")") + ", incomplete after " + incompleteHours + " h"
                    + (events.isEmpty() ? "" : ", this step: " + events) + ": ";
        }

        /** The invariants of one repository after one expiry. */
        private final class Check {
            private final String repository;
            private final Rules rules;
            private final Snap before;
            private final Snap after;
            private final Map<String, Snap> allBefore;
            private final Map<String, Snap> allAfter;
            private final Map<String, Planner.Decision> planned;
            private final Instant now;
            private final List<String> was;
            private final List<String> is;

            Check(String repository, Rules rules, Map<String, Snap> before, Map<String, Snap> after,
                  Map<String, Planner.Decision> planned, Instant now) {
                this.repository = repository;
                this.rules = rules;
                this.before = before.get(repository);
                this.after = after.get(repository);
                this.allBefore = before;
                this.allAfter = after;
                this.planned = planned;
                this.now = now;
                this.was = this.before.backups();
                this.is = this.after.backups();
            }

            private void require(boolean condition, String what) {
                if (!condition) {
                    fail(context(repository) + what + "\n" + table());
                }
            }

            /** The repository before and after, one line per backup, for a failure's message. */
            private String table() {
                StringBuilder text = new StringBuilder("  backups before (kept after? the plan's reason):\n");
                for (String id : was) {
                    Backup b = backups.get(id);
                    Planner.Decision d = planned.get(id);
                    text.append("  ").append(id).append(" parent ").append(b.parent()).append(" finished ")
                            .append(b.finished()).append(" wal ").append(segment(b.timeline(), b.startPos()))
                            .append("..").append(segment(b.timeline(), b.stopPos()))
                            .append(damaged(before, id) ? " DAMAGED" : "").append(pinned(id) ? " PINNED" : "")
                            .append(is.contains(id) ? " kept" : " gone").append(" (")
                            .append(d == null ? "no decision" : (d.keep() ? "keep: " : "expire: ") + d.reason())
                            .append(")\n");
                }
                text.append("  orphans before: ").append(before.orphans()).append(", after: ")
                        .append(after.orphans()).append("\n  WAL segments before: ").append(positions(before))
                        .append("\n  WAL segments after: ").append(positions(after));
                return text.toString();
            }

            private String positions(Snap snap) {
                List<Long> list = List.copyOf(snap.segments());
                if (list.isEmpty()) {
                    return "none";
                }
                List<String> runs = new ArrayList<>();
                long from = list.get(0);
                long prev = from;
                for (int i = 1; i <= list.size(); i++) {
                    if (i == list.size() || list.get(i) != prev + 1) {
                        runs.add(Long.toHexString(from) + (from == prev ? "" : "-" + Long.toHexString(prev)));
                        if (i < list.size()) {
                            from = list.get(i);
                        }
                    }
                    if (i < list.size()) {
                        prev = list.get(i);
                    }
                }
                return String.join(", ", runs);
            }

            // ------------------------------------------------------------ the model's view of a repository

            private boolean damaged(Snap snap, String id) {
                return !snap.dirs().get(id).containsAll(backups.get(id).objects());
            }

            private boolean pinned(String id) {
                return allBefore.values().stream().anyMatch(s -> s.dirs().containsKey(id)
                        && s.dirs().get(id).contains(PIN));
            }

            /**
             * {@code id} and each ancestor the repository holds, as far as the manifests tell: through a backup it
             * lacks as long as another repository holds that one's manifest once this expiry is done (a chain through
             * a backup released everywhere is broken).
             */
            private List<String> chain(Snap snap, String id) {
                List<String> chain = new ArrayList<>();
                for (String at = id; at != null; at = backups.get(at).parent()) {
                    if (snap.complete(at)) {
                        chain.add(at);
                    } else if (!known(at)) {
                        break;
                    }
                }
                return chain;
            }

            /** Whether another repository holds the manifest of {@code id} after this expiry. */
            private boolean known(String id) {
                return allAfter.entrySet().stream().anyMatch(s -> !s.getKey().equals(repository)
                        && s.getValue().complete(id));
            }

            private boolean walOf(Snap snap, Backup b) {
                for (long p = b.startPos(); p <= b.stopPos(); p++) {
                    String name = segment(b.timeline(), p) + WAL_EXTENSION;
                    if (!snap.wal().contains(name) || !snap.wal().contains(name + CHECKSUM)) {
                        return false;
                    }
                }
                return true;
            }

            /** Restorable from this repository alone: whole and undamaged down to its full, with its WAL. */
            private boolean restorable(Snap snap, String id) {
                if (!snap.complete(id) || !walOf(snap, backups.get(id))) {
                    return false;
                }
                for (String at = id; at != null; at = backups.get(at).parent()) {
                    if (!snap.complete(at) || damaged(snap, at)) {
                        return false;
                    }
                }
                return true;
            }

            /** Whether the archive holds every position from {@code from} to its newest segment. */
            private boolean continuous(Snap snap, long from) {
                if (snap.segments().isEmpty() || snap.segments().last() < from) {
                    return false;
                }
                for (long p = from; p <= snap.segments().last(); p++) {
                    if (!snap.segments().contains(p) || !snap.checksums().contains(p)) {
                        return false;
                    }
                }
                return true;
            }

            // ------------------------------------------------------------ what the policy alone wants

            private Set<String> descendantsOf(Set<String> roots, List<String> ids) {
                Set<String> out = new TreeSet<>(roots);
                for (String id : ids) {
                    if (chain(before, id).stream().anyMatch(roots::contains)) {
                        out.add(id);
                    }
                }
                return out;
            }

            private Set<String> policyWants() {
                Policy policy = rules.policy();
                Set<String> wants = new TreeSet<>();
                List<String> fulls = was.stream().filter(id -> backups.get(id).type() == BackupType.FULL).toList();
                if (policy.isCount()) {
                    wants.addAll(descendantsOf(new TreeSet<>(fulls.subList(Math.max(0, fulls.size() - policy.count()),
                            fulls.size())), was));
                } else if (policy.isWindow()) {
                    // The newest full before the window's start restores its first points, if it is not damaged
                    // here (then the newest one that is not, if there is one).
                    Instant start = policy.windowStart(now);
                    String anchor = null;
                    String sound = null;
                    for (String id : fulls) {
                        if (!backups.get(id).finished().isAfter(start)) {
                            anchor = id;
                            sound = damaged(before, id) ? sound : id;
                        }
                    }
                    anchor = sound != null ? sound : anchor;
                    for (String id : was) {
                        if (anchor == null || id.compareTo(anchor) >= 0) {
                            wants.add(id);
                        }
                    }
                } else {
                    wants.addAll(descendantsOf(generations(policy, fulls), was));
                }
                // retentionDiff and retentionIncr: what is older than its bound goes, with what depends on it.
                wants.removeIf(id -> chain(before, id).stream().anyMatch(this::beyondBound));
                return wants;
            }

            private boolean beyondBound(String id) {
                Backup b = backups.get(id);
                Integer bound = b.type() == BackupType.DIFF ? rules.diff() : b.type() == BackupType.INCR
                        ? rules.incr() : null;
                return bound != null && b.started().isBefore(now.minus(Duration.ofDays(bound)));
            }

            /** The newest full of each of the policy's periods (UTC days, ISO weeks from Monday, months, years). */
            private Set<String> generations(Policy policy, List<String> fulls) {
                LocalDate today = now.atOffset(ZoneOffset.UTC).toLocalDate();
                Map<String, String> newest = new HashMap<>();
                for (String id : fulls) {
                    Instant started = backups.get(id).started();
                    if (started.isAfter(now)) {
                        continue;
                    }
                    LocalDate day = started.atOffset(ZoneOffset.UTC).toLocalDate();
                    for (String key : List.of("d" + day, "w" + day.with(DayOfWeek.MONDAY), "m" + YearMonth.from(day),
                            "y" + day.getYear())) {
                        newest.merge(key, id, (a, b) -> a.compareTo(b) >= 0 ? a : b);
                    }
                }
                Set<String> kept = new TreeSet<>();
                for (int k = 0; k < policy.days(); k++) {
                    Optional.ofNullable(newest.get("d" + today.minusDays(k))).ifPresent(kept::add);
                }
                for (int k = 0; k < policy.weeks(); k++) {
                    Optional.ofNullable(newest.get("w" + today.with(DayOfWeek.MONDAY).minusWeeks(k)))
                            .ifPresent(kept::add);
                }
                for (int k = 0; k < policy.months(); k++) {
                    Optional.ofNullable(newest.get("m" + YearMonth.from(today).minusMonths(k))).ifPresent(kept::add);
                }
                for (int k = 0; k < policy.years(); k++) {
                    Optional.ofNullable(newest.get("y" + (today.getYear() - k))).ifPresent(kept::add);
                }
                return kept;
            }

            // ------------------------------------------------------------ the invariants

            void run() {
                require(is.stream().allMatch(was::contains), "expiry added backups: " + is);
                planned.keySet().forEach(id -> require(was.contains(id), "the expiry decided on " + id
                        + ", which the repository does not hold"));
                require(planned.keySet().containsAll(was), "the expiry decided nothing on some backups: "
                        + planned.keySet());
                Set<String> keptByPlan = planned.values().stream().filter(Planner.Decision::keep)
                        .map(d -> d.backup().id()).collect(Collectors.toCollection(TreeSet::new));
                require(keptByPlan.equals(new TreeSet<>(is)), "the expiry decided to keep " + keptByPlan + " but "
                        + "left " + is);
                complete();
                walOfKept();
                if (rules.policy() != null) {
                    policyPromises();
                }
                logPromises();
                neverRemoved();
                nothingKeptWithoutReason();
                orphans();
            }

            /** 1: what is still listed is whole: its objects (but those deleted by hand), its chain. */
            private void complete() {
                for (String id : is) {
                    require(after.dirs().get(id).equals(before.dirs().get(id)), "the files of kept backup " + id
                            + " changed: " + before.dirs().get(id) + " -> " + after.dirs().get(id));
                    Set<String> lacking = new TreeSet<>(backups.get(id).objects());
                    lacking.removeAll(after.dirs().get(id));
                    Set<String> byHand = damaged.getOrDefault(repository, Map.of()).getOrDefault(id, Set.of());
                    require(byHand.containsAll(lacking), "kept backup " + id + " lacks " + lacking);
                    for (String at : chain(before, id)) {
                        require(after.complete(at), "kept backup " + id + " lost its ancestor " + at);
                    }
                }
            }

            /** 2: every kept backup's WAL, start segment to stop segment, each with its checksum file. */
            private void walOfKept() {
                for (String id : is) {
                    Backup b = backups.get(id);
                    require(walOf(after, b), "kept backup " + id + " lacks WAL of "
                            + segment(b.timeline(), b.startPos()) + ".." + segment(b.timeline(), b.stopPos()));
                }
            }

            /** 3: what the policy promises: the window restorable, the newest fulls, the newest of each period. */
            private void policyPromises() {
                Policy policy = rules.policy();
                if (policy.isWindow()) {
                    Instant start = policy.windowStart(now);
                    Instant earliestBefore = earliestRestorable(before, was);
                    Instant earliestAfter = earliestRestorable(after, is);
                    if (earliestBefore != null) {
                        Instant needed = earliestBefore.isAfter(start) ? earliestBefore : start;
                        require(earliestAfter != null && !earliestAfter.isAfter(needed), "the window " + policy.text()
                                + " starts at " + start + ": restorable from " + earliestBefore + " before expiry, "
                                + "from " + earliestAfter + " after");
                    }
                }
                List<String> fulls = was.stream().filter(id -> backups.get(id).type() == BackupType.FULL).toList();
                if (policy.isCount()) {
                    for (String id : fulls.subList(Math.max(0, fulls.size() - policy.count()), fulls.size())) {
                        require(is.contains(id), "full " + id + " is one of the newest " + policy.count()
                                + " fulls, but was expired");
                    }
                }
                if (policy.isGenerations()) {
                    for (String id : generations(policy, fulls)) {
                        require(is.contains(id), "full " + id + " is the newest of one of the periods of "
                                + policy.text() + ", but was expired");
                    }
                }
            }

            /** The newest backup the repository could restore before expiry; null when none. */
            private String newestRestorable() {
                return was.stream().filter(id -> restorable(before, id)).reduce((a, b) -> b).orElse(null);
            }

            /** With logRetention, the newest backup that finished before the log's window; null otherwise. */
            private String logBase() {
                if (rules.log() == null) {
                    return null;
                }
                Instant start = now.minus(Duration.ofDays(rules.log()));
                return was.stream().filter(id -> !backups.get(id).finished().isAfter(start)).reduce((a, b) -> b)
                        .orElse(null);
            }

            private Instant earliestRestorable(Snap snap, List<String> ids) {
                return ids.stream().filter(id -> restorable(snap, id)).map(id -> backups.get(id).finished())
                        .min(Instant::compareTo).orElse(null);
            }

            /**
             * 3, the log: with logRetention L, every point of the last L days that a kept backup precedes is
             * restorable, the archive continuous from one such backup's start to its newest segment; without it, the
             * archive is continuous from the oldest kept backup's start. And what the policy releases of the archive
             * goes: segments before that backup, but those a kept backup needs itself.
             */
            private void logPromises() {
                if (is.isEmpty()) {
                    return;
                }
                Instant earliest = is.stream().map(id -> backups.get(id).finished()).min(Instant::compareTo)
                        .orElseThrow();
                String from;
                if (rules.log() != null) {
                    Instant start = now.minus(Duration.ofDays(rules.log()));
                    Instant point = earliest.isAfter(start) ? earliest : start;
                    List<String> bases = is.stream().filter(id -> !backups.get(id).finished().isAfter(point))
                            .toList();
                    require(bases.stream().anyMatch(id -> continuous(after, backups.get(id).startPos())),
                            "logRetention " + rules.log() + ": no kept backup finished by " + point + " (" + bases
                                    + ") has a continuous archive from its start");
                    from = bases.get(bases.size() - 1);
                } else {
                    from = is.get(0);
                    require(continuous(after, backups.get(from).startPos()), "the archive is not continuous from "
                            + "the oldest kept backup " + from);
                }
                if (rules.policy() == null) {
                    require(after.wal().equals(before.wal()), "the log changed without a policy");
                    return;
                }
                Set<String> needed = new HashSet<>();
                for (String id : is) {
                    Backup b = backups.get(id);
                    for (long p = b.startPos(); p <= b.stopPos(); p++) {
                        needed.add(segment(b.timeline(), p));
                    }
                }
                long fromPosition = backups.get(from).startPos();
                Set<String> expected = new TreeSet<>(before.wal());
                expected.removeIf(f -> (isSegmentFile(f) || isBackupHistoryFile(f)) && position(f) < fromPosition
                        && !needed.contains(f.substring(0, 24)));
                require(after.wal().equals(expected), "the log after expiry is not what the policy keeps: "
                        + "continuous from " + from + "; kept beyond it: " + diff(after.wal(), expected)
                        + ", expired but needed: " + diff(expected, after.wal()));
            }

            private static Set<String> diff(Set<String> a, Set<String> b) {
                Set<String> out = new TreeSet<>(a);
                out.removeAll(b);
                return out;
            }

            /**
             * 4: pinned backups and their ancestors, the newest backup (and the newest one the repository can
             * restore), timeline history files; and a repository that could restore a backup still can.
             */
            private void neverRemoved() {
                for (String id : was) {
                    if (pinned(id)) {
                        for (String at : chain(before, id)) {
                            require(is.contains(at), at + " was expired, but " + (at.equals(id) ? "it is pinned"
                                    : "pinned " + id + " depends on it"));
                        }
                    }
                }
                if (!was.isEmpty()) {
                    String newest = was.get(was.size() - 1);
                    require(is.contains(newest), "the newest backup " + newest + " was expired");
                    String restorable = newestRestorable();
                    require(restorable == null || is.contains(restorable), "the newest backup the repository can "
                            + "restore, " + restorable + ", was expired");
                }
                require(after.wal().containsAll(historyFiles), "timeline history files were expired: "
                        + diff(historyFiles, after.wal()));
                boolean anyBefore = was.stream().anyMatch(id -> restorable(before, id));
                require(!anyBefore || is.stream().anyMatch(id -> restorable(after, id)), "the repository could "
                        + "restore a backup before expiry, and none after");
            }

            /**
             * 5: kept beyond what the policy wants only for a reason, and a true one: pinned, needed by a kept
             * backup, the newest backup, the newest one the repository can restore, a chain reason, or (with
             * logRetention) the backup the log's window restores from.
             */
            private void nothingKeptWithoutReason() {
                Set<String> wants = rules.policy() == null ? new TreeSet<>(was) : policyWants();
                for (String id : wants) {
                    require(is.contains(id), "the policy wants " + id + ", but it was expired");
                }
                String newest = was.isEmpty() ? null : was.get(was.size() - 1);
                String restorable = newestRestorable();
                for (String id : is) {
                    if (wants.contains(id)) {
                        continue;
                    }
                    String reason = planned.get(id).reason();
                    boolean valid;
                    if (reason.equals("pinned")) {
                        valid = pinned(id);
                    } else if (reason.startsWith("needed by kept backup ")) {
                        String child = reason.substring("needed by kept backup ".length()).split(" ")[0];
                        List<String> chain = chain(before, child);
                        valid = is.contains(child) && chain.size() > 1 && chain.get(1).equals(id);
                    } else if (reason.startsWith("last backup of the job")) {
                        valid = id.equals(newest);
                    } else if (reason.startsWith("last restorable backup")) {
                        valid = id.equals(restorable) && !restorable(before, newest);
                    } else if (reason.startsWith("logRetention ")) {
                        valid = id.equals(logBase());
                    } else if (reason.contains("in the chain of full ")) {
                        String full = reason.substring(reason.indexOf("in the chain of full ") + 21);
                        valid = is.contains(full) && chain(before, id).contains(full);
                    } else if (reason.contains("its own chain is broken")) {
                        List<String> chain = chain(before, id);
                        valid = backups.get(chain.get(chain.size() - 1)).type() != BackupType.FULL;
                    } else {
                        valid = false;
                    }
                    require(valid, id + " is kept beyond what the policy wants, for no true reason: '" + reason + "'");
                }
            }

            /** 6: directories without a manifest go once older than the bound; younger ones are left alone. */
            private void orphans() {
                Instant bound = now.minus(Duration.ofHours(incompleteHours));
                for (String id : before.orphans()) {
                    Instant started = java.time.LocalDateTime.parse(id.substring(0, 15), java.time.format
                            .DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")).toInstant(ZoneOffset.UTC);
                    if (started.isBefore(bound)) {
                        require(!after.dirs().containsKey(id), "orphan " + id + " is older than "
                                + incompleteHours + " h and was left: " + after.dirs().get(id));
                    } else {
                        require(before.dirs().get(id).equals(after.dirs().get(id)), "orphan " + id + ", younger "
                                + "than " + incompleteHours + " h, was touched");
                    }
                }
                for (String id : after.orphans()) {
                    require(before.orphans().contains(id), "expiry left a directory without a manifest: " + id
                            + " " + after.dirs().get(id));
                }
            }
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
