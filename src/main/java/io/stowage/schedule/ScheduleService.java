package io.stowage.schedule;

import io.stowage.alert.AlertSettings;
import io.stowage.alert.BackupEvent;
import io.stowage.audit.AuditLog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.job.Job;
import io.stowage.metrics.BackupMetrics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the schedules need beyond Quartz: the last success of each job and type (read from the catalog at start and
 * from the local repository's at every staleness check, kept by the metrics), one catch-up run for a schedule that fired while the service was down (never a
 * burst: one run, however many fires were missed), and the staleness check that a timer route calls.
 */
public final class ScheduleService {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduleService.class);

    private final ScheduleContext services;
    private final List<Schedule> schedules;
    private final Duration margin;
    private final java.util.function.Supplier<Instant> clock;
    private final Instant started;
    private final Set<String> stale = ConcurrentHashMap.newKeySet();
    private volatile List<WalArchive> walArchives = List.of();

    public ScheduleService(ScheduleContext services, List<Schedule> schedules, Duration margin) {
        this(services, schedules, margin, Instant::now);
    }

    /** With a clock of its own, so that tests can move time instead of waiting for it. */
    public ScheduleService(ScheduleContext services, List<Schedule> schedules, Duration margin,
                           java.util.function.Supplier<Instant> clock) {
        this.services = services;
        this.schedules = List.copyOf(schedules);
        this.margin = margin;
        this.clock = clock;
        this.started = clock.get();
    }

    public Instant now() {
        return clock.get();
    }

    public List<Schedule> schedules() {
        return schedules;
    }

    /** The WAL archives whose spools the staleness check watches. */
    public void walArchives(List<WalArchive> archives) {
        this.walArchives = List.copyOf(archives);
        archives.forEach(archive -> services.metrics().declareWal(archive.job(), new BackupMetrics.Spool() {
            @Override
            public double oldestSeconds() {
                return archive.spoolState(Instant.now()).oldest().toMillis() / 1000.0;
            }

            @Override
            public double bytes() {
                return archive.spoolState(Instant.now()).bytes();
            }
        }));
        archives.forEach(archive -> services.metrics().archiveObjective(archive.job(),
                archive.rpoObjective().toSeconds()));
    }

    /** Reads each job's last successes from the catalog into the metrics. */
    public void loadLastSuccesses() {
        BackupMetrics metrics = services.metrics();
        for (Job job : services.jobs().all()) {
            metrics.declare(job.name(), "full");
        }
        for (Schedule schedule : schedules) {
            metrics.declare(schedule.job(), schedule.type());
        }
        // The local repositories at once (every backup is in its job's first repository, local as a rule: missed
        // schedules are judged from them); all of them, the remote ones too, on a thread of its own, so that a
        // repository that does not answer does not hold up the start for as long as its calls may take.
        readLastSuccesses(services.localCatalog(), warning -> LOG.warn("{}", warning));
        Thread all = new Thread(() -> {
            try {
                readLastSuccesses(services.catalog(), warning -> LOG.warn("{}", warning));
            } catch (RuntimeException e) {
                LOG.warn("cannot read the last successes from every repository: {}", io.stowage.Failures.describe(e));
            }
        }, "stowage-last-successes");
        all.setDaemon(true);
        all.start();
    }

    private void readLastSuccesses(io.stowage.catalog.Catalog catalog, java.util.function.Consumer<String> warnings) {
        for (CatalogEntry entry : catalog.list(null, warnings)) {
            services.metrics().lastSuccess(entry.job(), entry.manifest().type().id(), entry.manifest().finished());
        }
    }

    /** Schedules that should have fired since their job's last success of that type: each runs once, now. */
    public List<Schedule> missed(Instant now) {
        List<Schedule> missed = new ArrayList<>();
        for (Schedule schedule : schedules) {
            services.metrics().lastSuccess(schedule.job(), schedule.type()).ifPresent(last -> {
                if (schedule.nextAfter(last).isBefore(now)) {
                    missed.add(schedule);
                }
            });
        }
        return missed;
    }

    /** Starts the catch-up runs on a thread of their own, one after the other. */
    public void catchUp(ProducerTemplate producer) {
        List<Schedule> missed = missed(now());
        if (missed.isEmpty()) {
            return;
        }
        Thread thread = new Thread(() -> {
            for (Schedule schedule : missed) {
                LOG.info("schedule {} fired while the service was down: running job {} ({}) once now",
                        schedule.routeId(), schedule.job(), schedule.type());
                producer.send("direct:run-backup", exchange -> {
                    exchange.getIn().setHeader("StowageJob", schedule.job());
                    exchange.getIn().setHeader("StowageBackupType", schedule.type());
                    exchange.getIn().setHeader("StowageTrigger", "catch-up");
                });
            }
        }, "stowage-catch-up");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Staleness transitions since the last check: a STALE event when a job's last success (or, if it never had one,
     * the service's start) is older than its schedule's longest interval plus the margin, a FRESH event when that
     * passes.
     */
    public List<BackupEvent> checkStaleness(Instant now) {
        // A backup taken by a command beside the service is a success too; the service only hears of its own.
        // Every backup is complete in its job's first repository first, so their manifests are enough (usually the
        // home directory, cheap to read). (A damaged manifest was reported at start; this look, every few minutes,
        // does not repeat it.)
        readLastSuccesses(services.firstCopies(schedules.stream().map(Schedule::job).distinct().toList()),
                warning -> { });
        List<BackupEvent> events = new ArrayList<>();
        for (Schedule schedule : schedules) {
            Duration allowed = schedule.longestInterval(now).plus(margin);
            Instant last = services.metrics().lastSuccess(schedule.job(), schedule.type()).orElse(null);
            Instant since = last == null ? started : last;
            boolean isStale = Duration.between(since, now).compareTo(allowed) > 0;
            String key = schedule.job() + "/" + schedule.type();
            if (isStale && stale.add(key)) {
                String error = last == null
                        ? "no successful " + schedule.type() + " backup since the service started " + started
                                + "; expected one every " + human(allowed.minus(margin))
                        : "last successful " + schedule.type() + " backup finished " + last + ", more than "
                                + human(allowed) + " ago";
                events.add(event(BackupEvent.Kind.STALE, schedule, now, error));
            } else if (!isStale && stale.remove(key)) {
                events.add(event(BackupEvent.Kind.FRESH, schedule, now, null));
            }
        }
        for (WalArchive archive : walArchives) {
            WalArchive.SpoolState state = archive.spoolState(now);
            String problem = null;
            if (state.oldest().compareTo(archive.rpoObjective()) > 0) {
                problem = "WAL archiving is behind: the oldest of " + state.files() + " spooled WAL files waits since "
                        + human(state.oldest()) + ", more than the recovery point objective of "
                        + human(archive.rpoObjective());
            } else if (state.bytes() > archive.spoolLimitBytes()) {
                problem = "the WAL spool " + archive.spool() + " holds " + io.stowage.Sizes.human(state.bytes())
                        + ", over its limit of " + io.stowage.Sizes.human(archive.spoolLimitBytes());
            }
            String key = archive.job() + "/wal";
            Schedule asSchedule = new Schedule(archive.job(), "wal", "0 0 0 * * ?", "UTC", "wal-" + archive.job());
            if (problem != null && stale.add(key)) {
                events.add(event(BackupEvent.Kind.STALE, asSchedule, now, problem));
            } else if (problem == null && stale.remove(key)) {
                events.add(event(BackupEvent.Kind.FRESH, asSchedule, now, null));
            }
        }
        for (BackupEvent event : events) {
            services.metrics().record(event);
            LOG.warn("job {} ({}) is {}{}", event.job(), event.type(), event.kind().name().toLowerCase(),
                    event.error() == null ? "" : ": " + event.error());
        }
        return events;
    }

    private BackupEvent event(BackupEvent.Kind kind, Schedule schedule, Instant now, String error) {
        Job job = services.jobs().all().stream().filter(j -> j.name().equals(schedule.job())).findFirst().orElse(null);
        return new BackupEvent(kind, schedule.job(), job == null ? "unknown" : job.engine(), schedule.type(), null,
                "staleness", now, null, 0, 0, error, 0, AlertSettings.severity("medium"), AuditLog.host());
    }

    static String human(Duration duration) {
        long hours = duration.toHours();
        long minutes = duration.toMinutesPart();
        return hours > 0 ? hours + " h" + (minutes > 0 ? " " + minutes + " min" : "") : duration.toMinutes() + " min";
    }
}
