package io.stowage.schedule;

import io.stowage.StowageException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.TimeZone;
import org.quartz.CronExpression;

/** One schedule: a templated route of the {@code schedule} template, firing backups of one job and type. */
public record Schedule(String job, String type, String cron, String timeZone, String routeId) {

    public CronExpression expression() {
        try {
            CronExpression expression = new CronExpression(cron);
            expression.setTimeZone(TimeZone.getTimeZone(timeZone));
            return expression;
        } catch (ParseException e) {
            throw StowageException.usage("schedule '" + routeId + "': invalid cron '" + cron + "': " + e.getMessage());
        }
    }

    /** The first time this schedule fires after {@code after}. */
    public Instant nextAfter(Instant after) {
        Date next = expression().getNextValidTimeAfter(Date.from(after));
        return next == null ? Instant.MAX : next.toInstant();
    }

    /** The longest gap between two fires over the coming weeks: how old a last success may get. */
    public Duration longestInterval(Instant from) {
        Duration longest = Duration.ZERO;
        Instant t = nextAfter(from);
        for (int i = 0; i < 60 && t != Instant.MAX; i++) {
            Instant next = nextAfter(t);
            if (next == Instant.MAX) {
                break;
            }
            Duration gap = Duration.between(t, next);
            if (gap.compareTo(longest) > 0) {
                longest = gap;
            }
            t = next;
        }
        return longest;
    }
}
