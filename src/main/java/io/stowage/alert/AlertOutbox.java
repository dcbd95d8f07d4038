package io.stowage.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.Failures;
import io.stowage.StowageException;
import io.stowage.catalog.ManifestCodec;
import io.stowage.lock.ExclusiveLock;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Alerts not yet taken by their channel, kept in {@code <local repository>/.alerts-outbox/} (0700; one 0600 file
 * per alert, named by a sequence number). Every alert is kept first and then sent, oldest first, so one that cannot
 * be sent now (Slack or PagerDuty unreachable) is sent later by whichever Stowage process delivers next (the service
 * tries again on a timer), and a resolve never overtakes the trigger it resolves.
 *
 * <p>A file holds the event, not the message: the webhook URL and the routing key stay in the configuration, and a
 * message is built when it is sent. An {@link ExclusiveLock} on {@code .lock} lets one process, and one thread in
 * it, deliver or keep at a time (a command and the service may both try), so each alert is sent once and removed when
 * its channel has accepted it; a crash between the two sends it again, which PagerDuty's {@code dedup_key} makes
 * harmless.
 */
public final class AlertOutbox {
    private static final Pattern NAME = Pattern.compile("(\\d{12})-([a-z]+)\\.json");
    /**
     * How long keeping or delivering waits for another holder of the outbox, which may be sending its alerts to a
     * channel that answers slowly: past that, the caller reports the outbox as busy instead of hanging with it.
     */
    private static final Duration WAIT = Duration.ofMinutes(10);

    /** Sends one alert to its channel; throws {@link Refused} when the channel will never take it. */
    public interface Sender {
        void send(String channel, BackupEvent event) throws Exception;
    }

    /** The channel refused the alert for good (a 4xx answer, a channel no longer configured): it is dropped. */
    public static final class Refused extends Exception {
        public Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * An alert that was not delivered: still kept (with {@code waiting} alerts of its channel in all, itself
     * included), or dropped.
     */
    public record Failure(String channel, BackupEvent event, String reason, boolean dropped, int waiting) {
    }

    /** What one delivery did. */
    public record Report(int sent, List<Failure> failures) {
    }

    private final Path dir;
    private final Duration wait;

    public AlertOutbox(Path dir) {
        this(dir, WAIT);
    }

    /** With its own wait for another holder (tests: one that gives up at once). */
    AlertOutbox(Path dir, Duration wait) {
        this.dir = dir;
        this.wait = wait;
    }

    public Path directory() {
        return dir;
    }

    /** Keeps an alert for {@code channel}, durably, behind every alert kept before it. */
    public void keep(String channel, BackupEvent event) throws IOException {
        ObjectNode json = ManifestCodec.JSON.createObjectNode();
        json.put("channel", channel);
        json.put("kept", Instant.now().toString());
        json.set("event", ManifestCodec.JSON.valueToTree(event));
        byte[] bytes = ManifestCodec.JSON.writeValueAsBytes(json);
        locked(() -> {
            String name = String.format("%012d-%s.json", lastSequence() + 1, channel);
            Path tmp = dir.resolve("." + name + ".tmp");
            try (FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")))) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
            try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
                directory.force(true);
            }
            return null;
        });
    }

    /**
     * Sends the kept alerts of the channels {@code due} accepts, oldest first. A channel that fails keeps that alert
     * and every later one of its own (they wait, in order, for the next delivery); the other channels go on.
     */
    public Report deliver(Predicate<String> due, Sender sender) throws IOException {
        if (!Files.isDirectory(dir)) {
            return new Report(0, List.of());
        }
        return locked(() -> {
            int sent = 0;
            List<Failure> failures = new ArrayList<>();
            Set<String> blocked = new HashSet<>();
            List<Path> files = kept();
            for (Path file : files) {
                Matcher name = NAME.matcher(file.getFileName().toString());
                if (!name.matches()) {
                    continue;
                }
                String channel = name.group(2);
                if (blocked.contains(channel) || !due.test(channel)) {
                    continue;
                }
                BackupEvent event;
                try {
                    event = read(file);
                } catch (IOException | RuntimeException e) {
                    // Never sendable: set aside, so that it does not hold back the alerts behind it.
                    Files.move(file, file.resolveSibling(file.getFileName() + ".damaged"),
                            StandardCopyOption.REPLACE_EXISTING);
                    failures.add(new Failure(channel, null, "unreadable (" + Failures.describe(e) + "), set aside as "
                            + file.getFileName() + ".damaged", true, 0));
                    continue;
                }
                try {
                    sender.send(channel, event);
                    Files.delete(file);
                    sent++;
                } catch (Refused e) {
                    Files.delete(file);
                    failures.add(new Failure(channel, event, e.getMessage(), true, 0));
                } catch (Exception e) {
                    blocked.add(channel);
                    long waiting = files.stream().filter(f -> f.getFileName().toString().endsWith("-" + channel
                            + ".json") && f.getFileName().toString().compareTo(file.getFileName().toString()) >= 0)
                            .count();
                    failures.add(new Failure(channel, event, Failures.describe(e), false, (int) waiting));
                }
            }
            return new Report(sent, failures);
        });
    }

    /**
     * The event a kept file holds. Valid JSON is not enough: an empty file, or one another release kept in another
     * shape, could never be sent, and as a failure to send it would hold back every later alert of its channel.
     */
    private static BackupEvent read(Path file) throws IOException {
        JsonNode event = ManifestCodec.JSON.readTree(file.toFile()).path("event");
        for (String field : List.of("kind", "job", "type", "at")) {
            if (!event.path(field).isTextual() || event.path(field).asText().isBlank()) {
                throw new IOException("no event " + field + " in it");
            }
        }
        return ManifestCodec.JSON.treeToValue(event, BackupEvent.class);
    }

    /** How many alerts are waiting. */
    public int size() throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        return kept().size();
    }

    private List<Path> kept() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> NAME.matcher(f.getFileName().toString()).matches()).sorted().toList();
        }
    }

    private long lastSequence() throws IOException {
        List<Path> files = kept();
        if (files.isEmpty()) {
            return 0;
        }
        Matcher last = NAME.matcher(files.get(files.size() - 1).getFileName().toString());
        return last.matches() ? Long.parseLong(last.group(1)) : 0;
    }

    private interface Locked<T> {
        T run() throws IOException;
    }

    private <T> T locked(Locked<T> work) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        }
        ExclusiveLock lock;
        try {
            lock = ExclusiveLock.acquire(dir.resolve(".lock"), wait).orElseThrow(() -> new StowageException("the "
                    + "alert outbox " + dir + " is busy: another Stowage process (or thread) has been keeping or "
                    + "sending alerts for more than " + wait.toSeconds() + " s"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the alert outbox " + dir);
        }
        try (lock) {
            return work.run();
        }
    }
}
