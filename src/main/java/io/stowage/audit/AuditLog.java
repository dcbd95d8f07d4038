package io.stowage.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.Secrets;
import io.stowage.catalog.ManifestCodec;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail: every operation (backup, restore, start and stop of the service) as one JSON line with time, OS
 * user, host, command, job, backup id, result and duration. Lines are appended to
 * {@code <local repository>/audit/YYYYMMDD.jsonl}, and each event is also stored as one object under
 * {@code audit/YYYYMMDD/} in every other repository, where appending is not possible. Writing the trail never fails
 * the operation it records: a failure to write it is logged.
 */
public final class AuditLog {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HHmmss.SSS").withZone(ZoneOffset.UTC);

    private final Path localRoot;
    private final List<Repository> others;
    private final java.time.Clock clock;

    public AuditLog(Path localRoot, List<Repository> others) {
        this(localRoot, others, java.time.Clock.systemUTC());
    }

    /** With a clock of the caller's (tests: a day file that does not change at midnight). */
    public AuditLog(Path localRoot, List<Repository> others, java.time.Clock clock) {
        this.localRoot = localRoot;
        this.others = List.copyOf(others);
        this.clock = clock;
    }

    /** One audited operation. Null fields are written as null. */
    public record Entry(String command, String job, String backupId, String result, Duration duration, String error) {
    }

    public void record(Entry entry) {
        record(entry, null);
    }

    /**
     * Records {@code entry}: in the local audit log at once, and in every other repository on a thread of its own,
     * waited for at most {@code remoteWait} (null: as long as it takes). The service's own start and stop use it, so
     * that a remote repository that does not answer does not hold them up for its call timeout; a copy that has not
     * finished by then goes on in the background and is lost if the process ends first (the local line stays).
     */
    public void record(Entry entry, Duration remoteWait) {
        Instant now = clock.instant();
        ObjectNode line = ManifestCodec.JSON.createObjectNode();
        line.put("time", now.toString());
        line.put("user", System.getProperty("user.name"));
        line.put("host", host());
        line.put("command", entry.command());
        line.put("job", entry.job());
        line.put("backupId", entry.backupId());
        line.put("result", entry.result());
        if (entry.duration() == null) {
            line.putNull("durationSeconds");
        } else {
            line.put("durationSeconds", entry.duration().toMillis() / 1000.0);
        }
        line.put("error", entry.error() == null ? null : Secrets.mask(entry.error()));
        String json = line.toString();
        try {
            Path dir = localRoot.resolve("audit");
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            append(dir.resolve(DAY.format(now) + ".jsonl"), (json + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot write the audit log in {}: {}", localRoot, io.stowage.Failures.describe(e));
        }
        String key = "audit/" + DAY.format(now) + "/" + TIME.format(now) + "-" + entry.command() + "-"
                + UUID.randomUUID() + ".json";
        byte[] bytes = (json + "\n").getBytes(StandardCharsets.UTF_8);
        Runnable copies = () -> {
            for (Repository repository : others) {
                try {
                    repository.write(key, out -> out.write(bytes));
                } catch (IOException | RuntimeException e) {
                    LOG.warn("cannot write the audit log to repository {}: {}", repository.name(),
                            io.stowage.Failures.describe(e));
                }
            }
        };
        if (remoteWait == null || others.isEmpty()) {
            copies.run();
            return;
        }
        Thread thread = new Thread(copies, "stowage-audit-copies");
        thread.setDaemon(true);
        thread.start();
        try {
            thread.join(Math.max(1, remoteWait.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive() && !remoteWait.isZero()) {
            LOG.warn("the audit line of {} is in the local audit log; its copies to the other repositories did not "
                    + "finish within {} s and go on in the background", entry.command(), remoteWait.toSeconds());
        }
    }

    /**
     * Appends one line with one write, made durable. A line cut short before (a full disk, a crash) has no line end,
     * and appending to it would glue this record to its remnant: this one then starts on a line of its own.
     */
    private static void append(Path file, byte[] line) throws IOException {
        boolean fresh = true;
        if (Files.exists(file)) {
            try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = reader.size();
                ByteBuffer last = ByteBuffer.allocate(1);
                fresh = size == 0 || reader.read(last, size - 1) == 1 && last.get(0) == '\n';
            }
        }
        ByteBuffer bytes = ByteBuffer.allocate(line.length + (fresh ? 0 : 1));
        if (!fresh) {
            bytes.put((byte) '\n');
        }
        bytes.put(line).flip();
        try (FileChannel out = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")))) {
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(false);
        }
    }

    public static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
