package io.stowage.retention;

import io.stowage.catalog.CatalogEntry;
import io.stowage.config.RetentionPolicy;
import io.stowage.engine.CheckReport;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * {@code check}'s retention lines: per job and repository, the rules, what they keep and the oldest point that can be
 * restored; warnings where policies contradict each other or do nothing.
 */
public final class RetentionCheck {
    private RetentionCheck() {
    }

    public static void report(StowageServices services, Job job, List<CatalogEntry> entries, CheckReport report) {
        Instant now = Instant.now();
        Expiry expiry = new Expiry(services, (j, w) -> java.util.Optional.empty(), java.time.Clock.systemUTC());
        boolean archives = services.engines().get(job.engine()).archivesLogs(job);
        List<Repository> repositories = services.repositories().forJob(job.name(), job.parameters().get("repositories"));
        boolean anyPolicy = false;
        Map<String, Planner.Rules> rules = new java.util.LinkedHashMap<>();
        for (Repository repository : repositories) {
            Planner.Rules r = Expiry.rules(job, repository.name(), services.settings());
            rules.put(repository.name(), r);
            anyPolicy |= r.any();
            String what = "retention " + job.name() + " in " + repository.name();
            if (!r.any()) {
                report.ok(what + ": no policy, nothing expires");
                continue;
            }
            Planner.Plan plan = expiry.plan(job, repository, entries, now);
            Instant oldest = Expiry.oldestRestorable(plan);
            long pinned = plan.kept().stream().filter(Planner.Backup::pinned).count();
            report.ok(what + ": " + r.describe() + "; keeps " + plan.kept().size() + " of " + plan.decisions().size()
                    + " backup(s)" + (pinned == 0 ? "" : " (" + pinned + " pinned)") + ", " + plan.released().size()
                    + " to expire; oldest restorable point " + (oldest == null ? "none"
                    : oldest.truncatedTo(ChronoUnit.SECONDS)) + (plan.logFrom() == null ? ""
                    : "; log continuous from backup " + plan.logFrom().id()));
            if (r.logDays() != null && r.policy() instanceof RetentionPolicy.Window window
                    && window.start(now).isAfter(now.minus(r.logDays(), ChronoUnit.DAYS))) {
                report.warn(what + ": logRetention " + r.logDays() + " days is longer than the backups the policy "
                        + "keeps (" + window.text() + "): the newest backup before the log's " + r.logDays() + " days "
                        + "is kept as well, as the base those points are restored from");
            }
        }
        if (!anyPolicy && archives) {
            report.warn("retention " + job.name() + ": the job archives its log and has no retention policy: its "
                    + "backups and log archive grow without end; HINT: set the job's retention parameter or "
                    + "stowage.repository.NAME.retention (docs/retention.md)");
        }
        if (!anyPolicy) {
            for (String parameter : List.of("retentionDiff", "retentionIncr", "logRetention")) {
                if (job.retentionDays(parameter).isPresent()) {
                    report.warn("retention " + job.name() + ": " + parameter + " does nothing without a retention "
                            + "policy (the job's retention parameter or stowage.repository.NAME.retention)");
                }
            }
        }
        // A local copy kept longer than the offsite one: the offsite copy is the one that survives the site.
        for (Repository near : repositories) {
            for (Repository far : repositories) {
                var nearAttributes = services.repositories().attributes(near.name());
                var farAttributes = services.repositories().attributes(far.name());
                if (nearAttributes.offsite() || !farAttributes.offsite()) {
                    continue;
                }
                Long nearDays = days(rules.get(near.name()).policy());
                Long farDays = days(rules.get(far.name()).policy());
                boolean longer = rules.get(near.name()).any() && (!rules.get(far.name()).any() ? false
                        : nearDays != null && farDays != null && nearDays > farDays);
                if (longer) {
                    report.warn("retention " + job.name() + ": repository " + near.name() + " (on site) keeps "
                            + rules.get(near.name()).policy().text() + ", longer than the offsite repository "
                            + far.name() + " (" + rules.get(far.name()).policy().text() + "); HINT: keep the "
                            + "offsite copies at least as long");
                }
            }
        }
    }

    /** A window's length in days, for comparisons (months 31, years 366: the longest they can be); null otherwise. */
    private static Long days(RetentionPolicy policy) {
        if (policy instanceof RetentionPolicy.Window w) {
            return (long) w.amount() * switch (w.unit()) {
                case 'd' -> 1;
                case 'w' -> 7;
                case 'm' -> 31;
                default -> 366;
            };
        }
        if (policy instanceof RetentionPolicy.Generations g) {
            return Math.max(Math.max(g.days(), g.weeks() * 7L), Math.max(g.months() * 31L, g.years() * 366L));
        }
        return null;
    }
}
