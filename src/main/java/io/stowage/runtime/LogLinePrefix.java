package io.stowage.runtime;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * The start of a log line ({@code %prefix} in logback.xml). A command's report is its output and its one
 * {@code error:} line, so what it logs (at WARN and above) is a {@code warning: } line like the ones it prints
 * itself; the service and {@code --verbose} get the time, level and logger that a log file needs.
 */
public final class LogLinePrefix extends ClassicConverter {
    /** System property: {@code true} while a command (not the service, not --verbose) runs. */
    public static final String COMMAND = "stowage.log.command";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

    @Override
    public String convert(ILoggingEvent event) {
        if (Boolean.getBoolean(COMMAND)) {
            return "warning: ";
        }
        String logger = event.getLoggerName();
        return TIME.format(Instant.ofEpochMilli(event.getTimeStamp()).atZone(ZoneId.systemDefault())) + " "
                + String.format("%-5s", event.getLevel()) + " " + logger.substring(logger.lastIndexOf('.') + 1) + " - ";
    }
}
