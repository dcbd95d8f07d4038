package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The WAL a physical backup needs to become consistent, and whether a repository's archive holds it: every segment
 * from the manifest's start segment to its stop segment, on its timeline, archived under {@code <job>/wal/} as a
 * complete segment (a partial copy of a segment still being received does not count: the backup's end may lie past
 * what it holds). Restore, verification, {@code list} and {@code check} all ask here.
 *
 * <p>Each repository's archive of a job is listed once per instance (one listing of {@code <job>/wal/}, never a
 * request per segment), so one instance answers for many backups cheaply, and what else needs that listing
 * ({@link #archive}: the gaps {@code check} looks for, the checksums verification reads) takes it from here; make a
 * new one to see new WAL.
 */
public final class BackupWal implements io.stowage.engine.LogArchive.Reader {
    /** More segments than this between start and stop is no backup ever taken (16 TiB of 16 MiB segments). */
    private static final long MAX_SEGMENTS = 1L << 20;

    private final Map<String, List<String>> listings = new HashMap<>();
    private final Map<String, Set<String>> archived = new HashMap<>();


    /** Every segment a physical backup's WAL spans, first to last; refuses a range no backup can have. */
    public static List<String> segments(Manifest manifest) {
        PgDetails.Wal wal = PgDetails.wal(manifest);
        long size = wal.segmentSize();
        String start = wal.startSegment();
        String stop = wal.stopSegment();
        if (size < (1 << 20) || size > (1L << 30) || Long.bitCount(size) != 1 || start == null || stop == null
                || !WalNames.isSegment(start) || !WalNames.isSegment(stop) || WalNames.timeline(start) != WalNames
                .timeline(stop) || start.compareTo(stop) > 0 || number(stop, size) - number(start, size) >= MAX_SEGMENTS) {
            throw new StowageException("the manifest of backup " + manifest.id() + " of job '" + manifest.job()
                    + "' is damaged: its WAL range " + start + " to " + stop + " (segments of " + size + " bytes) is "
                    + "not one a backup can have");
        }
        List<String> names = new ArrayList<>();
        for (String segment = start; ; segment = WalNames.next(segment, size)) {
            names.add(segment);
            if (segment.equals(stop)) {
                return names;
            }
        }
    }

    private static long number(String segment, long size) {
        return Long.parseUnsignedLong(segment.substring(8, 16), 16) * (0x100000000L / size)
                + Long.parseUnsignedLong(segment.substring(16, 24), 16);
    }

    @Override
    public boolean needsLog(Manifest backup) {
        return PgDetails.wal(backup) != null;
    }

    @Override
    public String firstNeeded(Manifest oldest) {
        return PgDetails.wal(oldest).startSegment();
    }

    @Override
    public List<String> gaps(Repository repository, String job, Manifest oldest) throws IOException {
        PgDetails.Wal wal = PgDetails.wal(oldest);
        return gaps(archive(repository, job), wal.startSegment(), wal.segmentSize());
    }

    @Override
    public String describe(List<String> names) {
        return describeSegments(names);
    }

    /** The segments of {@code manifest}'s WAL that {@code repository} has no complete archived copy of. */
    @Override
    public List<String> missing(Repository repository, Manifest manifest) throws IOException {
        List<String> needed = segments(manifest);
        Set<String> present = archived(repository, manifest.job());
        return needed.stream().filter(s -> !present.contains(s)).toList();
    }

    /**
     * For each repository (in the order given) that holds {@code entry}, whether its archive has the backup's WAL. A
     * repository whose archive cannot be listed is reported to {@code warnings} and left out of both.
     */
    @Override
    public io.stowage.engine.LogArchive.Coverage coverage(CatalogEntry entry, List<Repository> repositories, Consumer<String> warnings) {
        List<String> complete = new ArrayList<>();
        Map<String, List<String>> missing = new LinkedHashMap<>();
        for (Repository repository : repositories) {
            if (!entry.repositories().contains(repository.name())) {
                continue;
            }
            try {
                List<String> lacking = missing(repository, entry.manifest());
                if (lacking.isEmpty()) {
                    complete.add(repository.name());
                } else {
                    missing.put(repository.name(), lacking);
                }
            } catch (IOException | RuntimeException e) {
                warnings.accept("the WAL of backup " + entry.id() + " of job '" + entry.job() + "' in repository '"
                        + repository.name() + "' cannot be checked: " + e.getMessage());
            }
        }
        return new io.stowage.engine.LogArchive.Coverage(List.copyOf(complete), missing);
    }

    /**
     * Released: segments (and backup history files, and the checksum files of both) before the segment where
     * {@code continuousFrom} starts, compared by position whatever their timeline, that no kept backup's own range
     * holds, and that are not at or after the start of a kept backup (from {@code continuousFrom} on) of their own
     * timeline or a lower-numbered one (a timeline branched off at an earlier position). Kept whatever else: timeline history files (tiny, and needed to follow any timeline), partial copies,
     * and anything that is not a WAL object.
     */
    @Override
    public List<String> releasable(List<String> archive, List<Manifest> kept, Manifest continuousFrom) {
        Set<String> needed = new HashSet<>();
        for (Manifest backup : kept) {
            if (PgDetails.wal(backup) != null) {
                needed.addAll(segments(backup));
            }
        }
        String from = PgDetails.wal(continuousFrom).startSegment().substring(8);
        // A timeline that branched off below that position (a point-in-time restore to an earlier point) holds WAL
        // at lower positions that a kept backup after continuousFrom needs to roll forward: on each timeline the log
        // stays continuous from the lowest start of such a backup on it or on a lower-numbered timeline (its
        // ancestors have lower numbers).
        TreeMap<Integer, String> since = new TreeMap<>();
        for (Manifest backup : kept) {
            PgDetails.Wal wal = PgDetails.wal(backup);
            if (wal != null && backup.id().compareTo(continuousFrom.id()) >= 0) {
                String start = wal.startSegment().substring(8);
                since.merge(WalNames.timeline(wal.startSegment()), start, (a, b) -> a.compareTo(b) <= 0 ? a : b);
            }
        }
        List<String> released = new ArrayList<>();
        for (String key : archive) {
            WalObject object = WalObject.ofKey(key).orElse(null);
            if (object == null || object.partial() || object.isHistory()) {
                continue;
            }
            String segment = object.walName().substring(0, 24);
            if (!WalNames.isSegment(segment) || segment.substring(8).compareTo(from) >= 0 || needed.contains(segment)) {
                continue;
            }
            String position = segment.substring(8);
            if (since.headMap(WalNames.timeline(segment), true).values().stream()
                    .anyMatch(start -> position.compareTo(start) >= 0)) {
                continue;
            }
            released.add(key);
        }
        return released;
    }

    /** Segment names for a message: all of a few, or the first and the last of many, with their number. */
    public static String describeSegments(List<String> segments) {
        if (segments.size() <= 4) {
            return String.join(", ", segments);
        }
        return segments.get(0) + ", " + segments.get(1) + " ... " + segments.get(segments.size() - 1) + " ("
                + segments.size() + " segments)";
    }

    /** The keys of every object under {@code <job>/wal/} in {@code repository}, as this instance listed them. */
    @Override
    public List<String> archive(Repository repository, String job) throws IOException {
        String key = repository.name() + "/" + job;
        List<String> keys = listings.get(key);
        if (keys == null) {
            keys = List.copyOf(repository.list(WalObject.prefix(job)));
            listings.put(key, keys);
        }
        return keys;
    }

    private Set<String> archived(Repository repository, String job) throws IOException {
        String key = repository.name() + "/" + job;
        Set<String> segments = archived.get(key);
        if (segments == null) {
            segments = new HashSet<>();
            for (String object : archive(repository, job)) {
                WalObject parsed = WalObject.ofKey(object).orElse(null);
                if (parsed != null && parsed.isSegment() && !parsed.checksumFile()) {
                    segments.add(parsed.walName());
                }
            }
            archived.put(key, segments);
        }
        return segments;
    }

    /**
     * Missing segments in an archive (the keys of its objects, as listed under {@code <job>/wal/}) from
     * {@code firstNeeded} (the oldest retained backup's first segment) to the newest archived segment of each
     * timeline: each gap is named by its first missing segment.
     */
    static List<String> gaps(List<String> archive, String firstNeeded, long segmentSize) {
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
