package io.stowage.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.config.RetentionPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The planner's rules on small, hand-made histories (the model-based test covers random ones). */
class PlannerTest {
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    private static Planner.Backup backup(int daysAgo, BackupType type, String parent, boolean pinned) {
        Instant started = NOW.minus(Duration.ofDays(daysAgo)).minusSeconds(3600);
        return new Planner.Backup(BackupId.of(started, type), type, parent, started, started.plusSeconds(600), pinned,
                false, true);
    }

    private static Planner.Rules rules(String policy, Integer diff, Integer incr, Integer log) {
        return new Planner.Rules(RetentionPolicy.parse(policy), diff, incr, log, "test");
    }

    private static Map<String, Boolean> kept(Planner.Plan plan) {
        return plan.decisions().stream().collect(Collectors.toMap(d -> d.backup().id(), Planner.Decision::keep));
    }

    /** Each backup's fate and reason: {@code keep pinned}, {@code expire policy 1: ...}. */
    private static Map<String, String> plan(Planner.Plan plan) {
        return plan.decisions().stream().collect(Collectors.toMap(d -> d.backup().id(),
                d -> (d.keep() ? "keep " : "expire ") + d.reason()));
    }

    @Test
    void should_parse_the_three_forms_and_refuse_anything_else_naming_the_accepted_forms() {
        assertEquals(new RetentionPolicy.Count(4), RetentionPolicy.parse("4"));
        assertEquals(new RetentionPolicy.Window(30, 'd'), RetentionPolicy.parse(" 30d "));
        assertEquals(new RetentionPolicy.Generations(7, 5, 12, 7), RetentionPolicy.parse("7d,5w,12m,7y"));
        assertEquals("7d,12m", RetentionPolicy.parse("12m, 7d").text());
        for (String bad : List.of("", "0", "30x", "7d,7d", "-1", "d", "4,7d", "0d", "30 d")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.parse(bad),
                    bad);
            assertTrue(e.getMessage().contains("grandfather-father-son"), e.getMessage());
        }
        assertEquals(14, RetentionPolicy.days("14d"));
        assertThrows(IllegalArgumentException.class, () -> RetentionPolicy.days("two weeks"));
    }

    @Test
    void should_expire_nothing_without_a_policy() {
        List<Planner.Backup> backups = List.of(backup(100, BackupType.FULL, null, false),
                backup(50, BackupType.FULL, null, false));
        Planner.Plan plan = Planner.plan(Planner.Rules.NONE, backups, NOW);
        assertTrue(plan.released().isEmpty());
        assertNull(plan.logFrom());
    }

    @Test
    void should_keep_the_newest_fulls_with_their_chains_and_release_older_chains_whole() {
        Planner.Backup f1 = backup(30, BackupType.FULL, null, false);
        Planner.Backup d1 = backup(29, BackupType.DIFF, f1.id(), false);
        Planner.Backup i1 = backup(28, BackupType.INCR, d1.id(), false);
        Planner.Backup f2 = backup(20, BackupType.FULL, null, false);
        Planner.Backup i2 = backup(19, BackupType.INCR, f2.id(), false);
        Planner.Backup f3 = backup(10, BackupType.FULL, null, false);
        Planner.Plan plan = Planner.plan(rules("2", null, null, null), List.of(f1, d1, i1, f2, i2, f3), NOW);
        Map<String, Boolean> kept = kept(plan);
        assertEquals(false, kept.get(f1.id()));
        assertEquals(false, kept.get(d1.id()));
        assertEquals(false, kept.get(i1.id()));
        assertEquals(true, kept.get(f2.id()));
        assertEquals(true, kept.get(i2.id()));
        assertEquals(true, kept.get(f3.id()));
        assertEquals(f2.id(), plan.logFrom().id());
    }

    @Test
    void should_keep_a_pinned_backup_and_what_it_depends_on_and_name_why() {
        Planner.Backup f1 = backup(30, BackupType.FULL, null, false);
        Planner.Backup i1 = backup(29, BackupType.INCR, f1.id(), true);
        Planner.Backup f2 = backup(10, BackupType.FULL, null, false);
        Planner.Plan plan = Planner.plan(rules("1", null, null, null), List.of(f1, i1, f2), NOW);
        Map<String, String> why = plan.decisions().stream().collect(Collectors.toMap(d -> d.backup().id(),
                d -> (d.keep() ? "keep " : "expire ") + d.reason()));
        assertEquals("keep pinned", why.get(i1.id()));
        assertEquals("keep needed by kept backup " + i1.id(), why.get(f1.id()));
        assertEquals("keep policy 1: one of the newest 1 full backups", why.get(f2.id()));
    }

    @Test
    void should_follow_a_chain_through_a_backup_this_repository_lacks() {
        // i1 was never copied here (another repository holds it): pinned i2 still depends on f1 through it.
        Planner.Backup f1 = backup(30, BackupType.FULL, null, false);
        Planner.Backup i1 = backup(29, BackupType.INCR, f1.id(), false);
        Planner.Backup i2 = backup(28, BackupType.INCR, i1.id(), true);
        Planner.Backup f2 = backup(10, BackupType.FULL, null, false);
        Map<String, String> elsewhere = new java.util.HashMap<>();
        elsewhere.put(i1.id(), f1.id());
        Planner.Plan plan = Planner.plan(rules("1", null, null, null), List.of(f1, i2, f2), elsewhere, NOW);
        Map<String, String> why = plan(plan);
        assertEquals("keep needed by kept backup " + i2.id() + " (through " + i1.id() + ", which this repository "
                + "lacks)", why.get(f1.id()));
        assertEquals("keep pinned", why.get(i2.id()));

        // A backup depending on a kept full through the missing one is in its chain; one depending on a released
        // differential through it goes with it.
        Planner.Backup d3 = backup(9, BackupType.DIFF, f2.id(), false);
        Planner.Backup i3 = backup(8, BackupType.INCR, d3.id(), false);
        Planner.Backup i4 = backup(7, BackupType.INCR, i3.id(), false);
        Planner.Backup f3 = backup(2, BackupType.FULL, null, false);
        List<Planner.Backup> held = List.of(f2, d3, i4, f3);
        why = plan(Planner.plan(rules("2", null, null, null), held, Map.of(i3.id(), d3.id()), NOW));
        assertEquals("keep policy 2: in the chain of full " + f2.id(), why.get(i4.id()));
        why = plan(Planner.plan(rules("2", 8, null, null), held, Map.of(i3.id(), d3.id()), NOW));
        assertEquals("expire retentionDiff 8: older than 8 days", why.get(d3.id()));
        assertEquals("expire depends on " + d3.id() + ", which retentionDiff releases", why.get(i4.id()));
        // Without that knowledge the chains are broken here.
        assertEquals(false, kept(Planner.plan(rules("1", null, null, null), List.of(f1, i2, f2), NOW)).get(f1.id()));
        assertEquals("keep policy 2: newer than the oldest kept full (its own chain is broken)",
                plan(Planner.plan(rules("2", 8, null, null), held, NOW)).get(i4.id()));
    }

    @Test
    void should_keep_the_newest_backup_the_repository_can_restore_when_the_newest_one_it_holds_is_not() {
        Planner.Backup f1 = backup(60, BackupType.FULL, null, false);
        Planner.Backup i1 = backup(59, BackupType.INCR, f1.id(), false);
        Planner.Backup f2 = backup(20, BackupType.FULL, null, false); // never copied here
        Planner.Backup d2 = backup(2, BackupType.DIFF, f2.id(), false);
        Planner.Plan plan = Planner.plan(rules("2d,1w", null, null, null), List.of(f1, i1, d2), NOW);
        Map<String, String> why = plan(plan);
        assertEquals("keep last backup of the job in this repository", why.get(d2.id()));
        assertEquals("keep last restorable backup of the job in this repository (the newer ones are damaged here, or "
                + "lack part of their chain here)", why.get(i1.id()));
        assertEquals("keep needed by kept backup " + i1.id(), why.get(f1.id()));

        // The newest backup is whole, but the full it depends on is damaged here.
        Planner.Backup damagedFull = new Planner.Backup(f2.id(), f2.type(), null, f2.started(), f2.finished(), false,
                true, true);
        plan = Planner.plan(rules("2d,1w", null, null, null), List.of(f1, i1, damagedFull, d2), NOW);
        assertEquals(true, kept(plan).get(i1.id()));
        // Restorable, the newest keeps nothing older.
        plan = Planner.plan(rules("2d,1w", null, null, null), List.of(f1, i1, f2, d2), NOW);
        assertEquals(false, kept(plan).get(i1.id()));
    }

    @Test
    void should_keep_the_backup_the_log_window_restores_from_while_it_is_that_backup() {
        Planner.Backup f1 = backup(40, BackupType.FULL, null, false);
        Planner.Backup i1 = backup(15, BackupType.INCR, f1.id(), false);
        Planner.Backup d2 = backup(1, BackupType.DIFF, f1.id(), false);
        // Three days ago i1 was the newest backup, and the log was kept continuous from its start only.
        Planner.Plan before = Planner.plan(rules("1", null, 5, 10), List.of(f1, i1), NOW.minus(Duration.ofDays(3)));
        assertEquals(i1.id(), before.logFrom().id());
        // Now retentionIncr releases i1, but the last 10 days still restore from it: the log before it is gone.
        Planner.Plan plan = Planner.plan(rules("1", null, 5, 10), List.of(f1, i1, d2), NOW);
        assertEquals("keep logRetention 10: newest backup before the log's 10 days (since 2026-11-21), with which they "
                + "restore", plan(plan).get(i1.id()));
        assertEquals(i1.id(), plan.logFrom().id());
        // Once a newer backup finished before the window, i1 goes.
        Planner.Backup d1 = backup(12, BackupType.DIFF, f1.id(), false);
        plan = Planner.plan(rules("1", null, 5, 10), List.of(f1, i1, d1, d2), NOW);
        assertEquals(false, kept(plan).get(i1.id()));
        assertEquals(d1.id(), plan.logFrom().id());
    }

    @Test
    void should_keep_the_newest_full_before_a_window_and_everything_after_it() {
        Planner.Backup f1 = backup(40, BackupType.FULL, null, false);
        Planner.Backup f2 = backup(35, BackupType.FULL, null, false);
        Planner.Backup i2 = backup(32, BackupType.INCR, f2.id(), false);
        Planner.Backup f3 = backup(20, BackupType.FULL, null, false);
        Planner.Plan plan = Planner.plan(rules("30d", null, null, 14), List.of(f1, f2, i2, f3), NOW);
        Map<String, Boolean> kept = kept(plan);
        assertEquals(false, kept.get(f1.id()));
        assertEquals(true, kept.get(f2.id()));
        assertEquals(true, kept.get(i2.id()));
        assertEquals(true, kept.get(f3.id()));
        // 14 days of log: continuous from the newest kept backup that ended before then.
        assertEquals(f3.id(), plan.logFrom().id());
    }

    @Test
    void should_start_a_window_from_the_newest_full_before_it_that_is_not_damaged_here() {
        Planner.Backup f1 = backup(40, BackupType.FULL, null, false);
        Planner.Backup f2 = backup(35, BackupType.FULL, null, false);
        Planner.Backup damaged = new Planner.Backup(f2.id(), f2.type(), null, f2.started(), f2.finished(), false, true,
                true);
        Planner.Backup i2 = backup(32, BackupType.INCR, f2.id(), false);
        Planner.Backup f3 = backup(20, BackupType.FULL, null, false);
        Planner.Backup f0 = backup(50, BackupType.FULL, null, false);
        Map<String, String> why = plan(Planner.plan(rules("30d", null, null, null), List.of(f0, f1, damaged, i2, f3),
                NOW));
        assertEquals("keep policy 30d: newest full before the window's start (2026-11-01) that is not damaged here, "
                + "restores its first points", why.get(f1.id()));
        assertEquals("keep policy 30d: inside the window (since 2026-11-01)", why.get(f2.id()));
        assertEquals("keep policy 30d: inside the window (since 2026-11-01)", why.get(i2.id()));
        assertTrue(why.get(f0.id()).startsWith("expire policy 30d: older than " + f1.id()), why.get(f0.id()));
    }

    @Test
    void should_release_old_differentials_with_their_dependents_but_never_the_last_backup() {
        Planner.Backup f1 = backup(40, BackupType.FULL, null, false);
        Planner.Backup d1 = backup(20, BackupType.DIFF, f1.id(), false);
        Planner.Backup i1 = backup(19, BackupType.INCR, d1.id(), false);
        Planner.Backup d2 = backup(2, BackupType.DIFF, f1.id(), false);
        Planner.Plan plan = Planner.plan(rules("1", 7, null, null), List.of(f1, d1, i1, d2), NOW);
        Map<String, Boolean> kept = kept(plan);
        assertEquals(true, kept.get(f1.id()));
        assertEquals(false, kept.get(d1.id()));
        assertEquals(false, kept.get(i1.id()));
        assertEquals(true, kept.get(d2.id()));
        // The newest backup is always kept, with its chain, even when the bound releases it.
        Planner.Plan old = Planner.plan(rules("1", 7, null, null), List.of(f1, d1), NOW);
        assertEquals(List.of(), old.released());
    }

    @Test
    void should_keep_the_newest_full_of_each_period_for_grandfather_father_son() {
        List<Planner.Backup> backups = new ArrayList<>();
        for (int day = 400; day >= 0; day--) {
            backups.add(backup(day, BackupType.FULL, null, false));
        }
        Planner.Plan plan = Planner.plan(rules("7d,4w,12m,2y", null, null, null), backups, NOW);
        long kept = plan.kept().size();
        // 7 days, up to 4 weeks, 12 months and 2 years, many of them the same backups.
        assertTrue(kept >= 7 + 3 && kept <= 7 + 4 + 12 + 2, "kept " + kept);
        assertTrue(plan.kept().stream().anyMatch(b -> b.started().isBefore(NOW.minus(Duration.ofDays(330)))));
        plan.kept().forEach(b -> assertTrue(plan.decisions().stream().filter(d -> d.backup() == b).findFirst()
                .orElseThrow().reason().startsWith("policy 7d,4w,12m,2y: newest full of ")
                || b == backups.get(backups.size() - 1)));
    }
    @Test
    void should_keep_the_newest_backup_that_did_not_start_in_the_future_beside_one_whose_id_is_ahead_of_the_clock() {
        // A backup made on a host whose clock was years ahead: its id sorts after every real one.
        Planner.Backup f1 = backup(10, BackupType.FULL, null, false);
        Planner.Backup f2 = backup(3, BackupType.FULL, null, false);
        Planner.Backup i2 = backup(1, BackupType.INCR, f2.id(), false);
        Planner.Backup ahead = backup(-1000, BackupType.FULL, null, false);
        Planner.Plan plan = Planner.plan(rules("1", null, null, null), List.of(f1, f2, i2, ahead), NOW);
        Map<String, Boolean> kept = kept(plan);
        assertEquals(true, kept.get(ahead.id()));
        assertEquals(true, kept.get(i2.id()), plan(plan).get(i2.id()));
        assertEquals(true, kept.get(f2.id()), plan(plan).get(f2.id()));
        assertEquals(false, kept.get(f1.id()));
    }
}
