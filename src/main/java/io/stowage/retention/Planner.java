package io.stowage.retention;

import io.stowage.catalog.BackupType;
import io.stowage.config.RetentionPolicy;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides, for the backups of one job in one repository, which are kept and which expire, and why: the one place where
 * chain safety is decided. Pure: it reads nothing and deletes nothing ({@link Expiry} does), so that the model-based
 * test can run it over random histories.
 *
 * <p>The rules, in order:
 * <ol>
 *   <li>Without a policy nothing expires.</li>
 *   <li>The policy wants a set of backups: a count wants the newest N fulls and their chains; a window wants the newest
 *       full that finished before the window's start (not damaged here, when there is such a one) and everything after
 *       it; grandfather-father-son wants the newest
 *       full of each of its periods, with their chains.</li>
 *   <li>{@code retentionDiff} and {@code retentionIncr} release differential and incremental backups older than their
 *       bound, with everything that depends on them.</li>
 *   <li>Whatever the policy says, these are kept: a pinned backup; the newest backup of the job in the repository (and,
 *       when the repository cannot restore that one, because it or a backup it depends on is damaged or missing here,
 *       the newest one it can restore); with {@code logRetention}, the newest backup that finished before the log's
 *       window (with the log since its start, it restores the window's first points); and every backup a kept one
 *       depends on.</li>
 * </ol>
 * A backup therefore only ever goes with everything that depends on it, here or through a backup this repository lacks
 * that another one holds (a chain is followed through those). For the log archive, the plan names the kept
 * backups that need log, and the one from whose start the archive stays continuous ({@code logRetention} days back,
 * or the oldest kept one); the engine turns that into log objects ({@link io.stowage.engine.LogArchive.Reader}).
 */
public final class Planner {
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE;

    private Planner() {
    }

    /**
     * A backup as the planner sees it. {@code damaged}: its copy in the repository lacks objects, or the repository's
     * log archive lacks log it needs (the repository cannot restore it); {@code needsLog}:
     * it needs log files to be consistent (a physical backup).
     */
    public record Backup(String id, BackupType type, String parent, Instant started, Instant finished, boolean pinned,
                         boolean damaged, boolean needsLog) {
    }

    /** The rules of one job in one repository. Null members are not set. */
    public record Rules(RetentionPolicy policy, Integer diffDays, Integer incrDays, Integer logDays, String source) {
        public static final Rules NONE = new Rules(null, null, null, null, "no policy");

        public boolean any() {
            return policy != null;
        }

        /** The rules for messages: {@code 30d (job parameter), retentionDiff 7, logRetention 14}. */
        public String describe() {
            if (policy == null) {
                return "no policy";
            }
            return policy.text() + " (" + source + ")" + (diffDays == null ? "" : ", retentionDiff " + diffDays)
                    + (incrDays == null ? "" : ", retentionIncr " + incrDays)
                    + (logDays == null ? "" : ", logRetention " + logDays);
        }
    }

    /** One backup's fate and the reason, in words the dry run prints. */
    public record Decision(Backup backup, boolean keep, String reason) {
    }

    /**
     * The decisions, oldest first; {@code logKept}: the kept backups that need log (each needs its own);
     * {@code logFrom}: the kept backup from whose start the log archive must stay continuous, or null when the log
     * archive is left as it is (no policy, or no kept backup needs log).
     */
    public record Plan(List<Decision> decisions, List<Backup> logKept, Backup logFrom) {
        public List<Backup> kept() {
            return decisions.stream().filter(Decision::keep).map(Decision::backup).toList();
        }

        public List<Backup> released() {
            return decisions.stream().filter(d -> !d.keep()).map(Decision::backup).toList();
        }
    }

    public static Plan plan(Rules rules, List<Backup> backups, Instant now) {
        return plan(rules, backups, Map.of(), now);
    }

    /**
     * The plan of {@code backups}, the backups the repository holds. {@code elsewhere}: backups of the job this
     * repository lacks (not copied yet, or removed by hand) that the catalog knows from another repository, each with
     * its parent (null for a full). A chain is followed through them: a backup that depends on one here through a
     * backup missing here still depends on it, so that it keeps it, and goes with it.
     */
    public static Plan plan(Rules rules, List<Backup> backups, Map<String, String> elsewhere, Instant now) {
        List<Backup> all = new ArrayList<>(backups);
        all.sort(java.util.Comparator.comparing(Backup::id));
        Map<String, Backup> byId = new HashMap<>();
        all.forEach(b -> byId.put(b.id(), b));
        // Each backup's nearest ancestor held here: its parent, or the first one here beyond those missing here.
        Map<String, String> up = new HashMap<>();
        for (Backup b : all) {
            String held = heldAncestor(b, byId, elsewhere);
            if (held != null) {
                up.put(b.id(), held);
            }
        }
        if (!rules.any()) {
            return new Plan(all.stream().map(b -> new Decision(b, true, "no retention policy")).toList(), List.of(),
                    null);
        }
        String name = "policy " + rules.policy().text();
        // Step 1: what the policy wants, and why.
        Map<String, String> wanted = new LinkedHashMap<>();
        Map<String, String> released = new HashMap<>();
        if (rules.policy() instanceof RetentionPolicy.Count count) {
                List<Backup> fulls = all.stream().filter(b -> b.type() == BackupType.FULL).toList();
                List<Backup> newest = fulls.subList(Math.max(0, fulls.size() - count.fulls()), fulls.size());
                Set<String> anchors = new java.util.HashSet<>();
                newest.forEach(b -> anchors.add(b.id()));
                Instant oldestKept = newest.isEmpty() ? null : newest.get(0).started();
                for (Backup b : all) {
                    String root = root(b.id(), up);
                    if (anchors.contains(b.id())) {
                        wanted.put(b.id(), name + ": one of the newest " + count.fulls() + " full backups");
                    } else if (anchors.contains(root)) {
                        wanted.put(b.id(), name + ": in the chain of full " + root);
                    } else if (byId.get(root).type() != BackupType.FULL && oldestKept != null
                            && b.started().isAfter(oldestKept)) {
                        wanted.put(b.id(), name + ": newer than the oldest kept full (its own chain is broken)");
                    } else {
                        released.put(b.id(), name + ": older than the newest " + count.fulls() + " full backups");
                    }
                }
        } else if (rules.policy() instanceof RetentionPolicy.Window window) {
                Instant start = window.start(now);
                // The newest full that finished before the window's start restores its first points; a copy damaged
                // here restores nothing, so the newest one that is not (if there is one) is where the window starts.
                Backup anchor = null;
                Backup sound = null;
                for (Backup b : all) {
                    if (b.type() == BackupType.FULL && !b.finished().isAfter(start)) {
                        anchor = b;
                        sound = b.damaged() ? sound : b;
                    }
                }
                boolean skipped = sound != null && sound != anchor;
                anchor = sound != null ? sound : anchor;
                String since = DAY.format(start.atZone(ZoneOffset.UTC));
                for (Backup b : all) {
                    if (anchor == null) {
                        wanted.put(b.id(), name + ": no full backup finished before the window's start (" + since
                                + "), so every backup is needed");
                    } else if (b == anchor) {
                        wanted.put(b.id(), name + ": newest full before the window's start (" + since + ")"
                                + (skipped ? " that is not damaged here" : "") + ", restores its first points");
                    } else if (b.started().isBefore(anchor.started())) {
                        released.put(b.id(), name + ": older than " + anchor.id() + ", the newest full before the "
                                + "window's start (" + since + ")");
                    } else {
                        wanted.put(b.id(), name + ": inside the window (since " + since + ")");
                    }
                }
        } else if (rules.policy() instanceof RetentionPolicy.Generations gfs) {
                Map<String, List<String>> periods = generations(gfs, all, now);
                for (Backup b : all) {
                    String root = root(b.id(), up);
                    if (periods.containsKey(b.id())) {
                        wanted.put(b.id(), name + ": newest full of " + String.join(", ", periods.get(b.id())));
                    } else if (periods.containsKey(root)) {
                        wanted.put(b.id(), name + ": in the chain of full " + root);
                    } else {
                        released.put(b.id(), b.type() == BackupType.FULL
                                ? name + ": not the newest full of any kept day, week, month or year"
                                : name + ": its chain's full (" + root + ") is not kept");
                    }
                }
        }
        // Step 2: differential and incremental bounds, each with what depends on it.
        for (Backup b : all) {
            Integer bound = b.type() == BackupType.DIFF ? rules.diffDays()
                    : b.type() == BackupType.INCR ? rules.incrDays() : null;
            if (bound != null && wanted.containsKey(b.id())
                    && b.started().isBefore(now.minus(bound, ChronoUnit.DAYS))) {
                String parameter = b.type() == BackupType.DIFF ? "retentionDiff" : "retentionIncr";
                wanted.remove(b.id());
                released.put(b.id(), parameter + " " + bound + ": older than " + bound + " days");
                for (Backup d : all) {
                    if (!d.id().equals(b.id()) && dependsOn(d.id(), b.id(), up) && wanted.remove(d.id()) != null) {
                        released.put(d.id(), "depends on " + b.id() + ", which " + parameter + " releases");
                    }
                }
            }
        }
        // Step 3: what is kept whatever the policy says, then everything a kept backup depends on.
        Map<String, String> keep = new HashMap<>(wanted);
        for (Backup b : all) {
            if (b.pinned()) {
                keep.put(b.id(), "pinned");
            }
        }
        keepNewest(all, byId, keep, "");
        // A backup whose id is ahead of the clock (made on a host whose clock was ahead, or a directory named so) sorts
        // after every real one: the newest backup that did not start in the future is kept too, with the same care.
        List<Backup> present = all.stream().filter(b -> !b.started().isAfter(now)).toList();
        if (present.size() < all.size()) {
            keepNewest(present, byId, keep, " that did not start in the future (backup " + all.get(all.size() - 1).id()
                    + " did: a clock ahead?)");
        }
        // logRetention: the newest backup that finished before the log's window restores the window's first points
        // with the log since its start. It stays while it is that backup: were it released, the log would have to be
        // continuous from an older kept backup, and the log before its start may already be gone.
        Instant logStart = rules.logDays() == null ? null : now.minus(rules.logDays(), ChronoUnit.DAYS);
        if (logStart != null) {
            Backup base = null;
            for (Backup b : all) {
                if (b.needsLog() && !b.finished().isAfter(logStart)) {
                    base = b;
                }
            }
            if (base != null) {
                keep.putIfAbsent(base.id(), "logRetention " + rules.logDays() + ": newest backup before the log's "
                        + rules.logDays() + " days (since " + DAY.format(logStart.atZone(ZoneOffset.UTC))
                        + "), with which they restore");
            }
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            Backup b = all.get(i);
            String parent = up.get(b.id());
            if (keep.containsKey(b.id()) && parent != null) {
                keep.putIfAbsent(parent, "needed by kept backup " + b.id() + (parent.equals(b.parent()) ? ""
                        : " (through " + b.parent() + ", which this repository lacks)"));
            }
        }
        List<Decision> decisions = new ArrayList<>();
        for (Backup b : all) {
            boolean kept = keep.containsKey(b.id());
            decisions.add(new Decision(b, kept, kept ? keep.get(b.id()) : released.getOrDefault(b.id(), name)));
        }
        // The log: each kept backup's own, and continuous from one of them.
        List<Backup> logKept = all.stream().filter(b -> keep.containsKey(b.id()) && b.needsLog()).toList();
        Backup logFrom = null;
        if (!logKept.isEmpty()) {
            logFrom = logKept.get(0);
            if (logStart != null) {
                for (Backup b : logKept) {
                    if (!b.finished().isAfter(logStart)) {
                        logFrom = b;
                    }
                }
            }
        }
        return new Plan(List.copyOf(decisions), logKept, logFrom);
    }

    /** Keeps the newest of {@code all} (oldest first) and, when this repository cannot restore it, the newest it can. */
    private static void keepNewest(List<Backup> all, Map<String, Backup> byId, Map<String, String> keep,
                                   String which) {
        if (all.isEmpty()) {
            return;
        }
        Backup newest = all.get(all.size() - 1);
        keep.putIfAbsent(newest.id(), "last backup of the job in this repository" + which);
        if (!restorable(newest, byId)) {
            for (int i = all.size() - 2; i >= 0; i--) {
                if (restorable(all.get(i), byId)) {
                    keep.putIfAbsent(all.get(i).id(), "last restorable backup of the job in this repository" + which
                            + " (the newer ones are damaged here, or lack part of their chain here)");
                    break;
                }
            }
        }
    }

    /**
     * Whether this repository alone restores {@code b}: it and every backup it depends on, down to its full, are here
     * and none of them is damaged.
     */
    private static boolean restorable(Backup b, Map<String, Backup> byId) {
        Backup at = b;
        int guard = 0;
        while (at != null && !at.damaged() && guard++ < 100_000) {
            if (at.parent() == null) {
                return at.type() == BackupType.FULL;
            }
            at = byId.get(at.parent());
        }
        return false;
    }

    /**
     * The nearest ancestor of {@code b} that this repository holds: its parent, or, when the repository lacks that one,
     * the first one it holds beyond it, as far as {@code elsewhere} knows the chain; null when there is none.
     */
    private static String heldAncestor(Backup b, Map<String, Backup> byId, Map<String, String> elsewhere) {
        String at = b.parent();
        int guard = 0;
        while (at != null && !byId.containsKey(at) && elsewhere.containsKey(at) && guard++ < 100_000) {
            at = elsewhere.get(at);
        }
        return at != null && byId.containsKey(at) ? at : null;
    }

    /**
     * The oldest backup of {@code id}'s chain that this repository holds (its full, when the chain is whole here or
     * lacks only backups that another repository holds); {@code up}: each backup's nearest ancestor held here.
     */
    static String root(String id, Map<String, String> up) {
        String at = id;
        int guard = 0;
        while (up.containsKey(at) && guard++ < 100_000) {
            at = up.get(at);
        }
        return at;
    }

    private static boolean dependsOn(String id, String ancestor, Map<String, String> up) {
        String at = id;
        int guard = 0;
        while (up.containsKey(at) && guard++ < 100_000) {
            at = up.get(at);
            if (at.equals(ancestor)) {
                return true;
            }
        }
        return false;
    }

    /** For grandfather-father-son: each kept full, with the periods it is the newest full of. */
    private static Map<String, List<String>> generations(RetentionPolicy.Generations gfs, List<Backup> all,
                                                         Instant now) {
        LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
        Map<String, List<String>> kept = new LinkedHashMap<>();
        record Level(int count, String unit) {
        }
        for (Level level : List.of(new Level(gfs.days(), "day"), new Level(gfs.weeks(), "week"),
                new Level(gfs.months(), "month"), new Level(gfs.years(), "year"))) {
            if (level.count() == 0) {
                continue;
            }
            Map<String, Backup> newestOf = new HashMap<>();
            for (Backup b : all) {
                if (b.type() == BackupType.FULL && !b.started().isAfter(now)) {
                    newestOf.put(period(b.started().atZone(ZoneOffset.UTC).toLocalDate(), level.unit()), b);
                }
            }
            for (int back = 0; back < level.count(); back++) {
                LocalDate day = switch (level.unit()) {
                    case "day" -> today.minusDays(back);
                    case "week" -> today.minusWeeks(back);
                    case "month" -> today.minusMonths(back);
                    default -> today.minusYears(back);
                };
                String period = period(day, level.unit());
                Backup newest = newestOf.get(period);
                if (newest != null) {
                    kept.computeIfAbsent(newest.id(), k -> new ArrayList<>()).add(level.unit() + " " + period);
                }
            }
        }
        return kept;
    }

    private static String period(LocalDate day, String unit) {
        return switch (unit) {
            case "day" -> DAY.format(day);
            case "week" -> String.format(java.util.Locale.ROOT, "%d-W%02d", day.get(IsoFields.WEEK_BASED_YEAR),
                    day.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            case "month" -> day.getYear() + "-" + String.format(java.util.Locale.ROOT, "%02d", day.getMonthValue());
            default -> Integer.toString(day.getYear());
        };
    }
}
