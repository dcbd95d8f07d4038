package io.stowage.engine.postgresql;

import io.stowage.engine.CheckReport;
import io.stowage.engine.EngineContext;
import io.stowage.engine.LogArchive;
import io.stowage.job.Job;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * PostgreSQL's WAL archive: segments, timeline history and backup history files under {@code <job>/wal/};
 * {@link BackupWal} says what each physical backup needs; with {@code receiver: pg_receivewal}, the service keeps a
 * {@link WalReceiver} streaming into the spool and {@link WalPartials} copying the segment it is receiving.
 */
final class PgWalArchive implements LogArchive {
    /** The server's archive_command (bin/stowage-archive-wal) fills the spool. */
    static final String ARCHIVE_COMMAND = "archive_command";
    /** The service runs pg_receivewal, which streams into the spool. */
    static final String PG_RECEIVEWAL = "pg_receivewal";

    @Override
    public String directory() {
        return "wal";
    }

    @Override
    public boolean isLogFile(String name) {
        return WalNames.isSegment(name) || WalNames.isHistory(name) || WalNames.isBackupHistory(name);
    }

    @Override
    public Reader reader() {
        return new BackupWal();
    }

    @Override
    public void validateRoute(Job job, Map<String, String> parameters) {
        String receiver = parameters.getOrDefault("receiver", ARCHIVE_COMMAND);
        if (!ARCHIVE_COMMAND.equals(receiver) && !PG_RECEIVEWAL.equals(receiver)) {
            throw io.stowage.StowageException.usage("WAL route of job '" + job.name() + "' has receiver '" + receiver
                    + "'; HINT: use archive_command (the server's archive_command fills the spool) or pg_receivewal "
                    + "(the service streams WAL with pg_receivewal)");
        }
    }

    @Override
    public boolean serviceFillsSpool(Map<String, String> parameters) {
        return PG_RECEIVEWAL.equals(parameters.get("receiver"));
    }

    @Override
    public Optional<Receiver> receiver(Job job, Map<String, String> parameters, EngineContext context) {
        if (!PG_RECEIVEWAL.equals(parameters.get("receiver"))) {
            return Optional.empty();
        }
        Path spool = Path.of(parameters.get("spool"));
        WalReceiver receiver = new WalReceiver(job.name(), PgConnection.of(job), spool,
                parameters.getOrDefault("slot", ""));
        Duration partialEvery = Duration.ofSeconds(Long.parseLong(parameters.getOrDefault("partialSeconds", "10")));
        return Optional.of(new Receiver() {
            private WalPartials partials;

            @Override
            public void start() {
                receiver.start();
                if (!partialEvery.isZero()) {
                    partials = new WalPartials(context, job, spool, parameters.getOrDefault("codec", "zstd"),
                            parameters.getOrDefault("level", "1"), partialEvery).start();
                }
            }

            @Override
            public boolean running() {
                return receiver.running();
            }

            @Override
            public void close() {
                if (partials != null) {
                    partials.close();
                }
                receiver.close(); // pg_receivewal flushes what it has; the spool keeps it
            }
        });
    }

    /**
     * A pg_receivewal job: the role may replicate, the server has WAL senders, and the slot's state (missing until
     * the service first starts; while inactive, the WAL the server keeps for it grows).
     */
    @Override
    public void checkReceiver(Job job, Map<String, String> parameters, EngineContext context, CheckReport report) {
        if (!PG_RECEIVEWAL.equals(parameters.get("receiver"))) {
            return;
        }
        String configured = parameters.getOrDefault("slot", "");
        String slot = configured.isEmpty() ? WalReceiver.defaultSlot(job.name()) : configured;
        PgConnection connection = PgConnection.of(job);
        try (java.sql.Connection c = connection.open(connection.database());
             java.sql.PreparedStatement s = c.prepareStatement("SELECT (SELECT rolreplication OR rolsuper FROM pg_roles"
                     + " WHERE rolname = current_user), current_setting('max_wal_senders')::int,"
                     + " (SELECT active FROM pg_replication_slots WHERE slot_name = ?),"
                     + " (SELECT pg_current_wal_lsn() - restart_lsn FROM pg_replication_slots WHERE slot_name = ?)")) {
            s.setString(1, slot);
            s.setString(2, slot);
            try (java.sql.ResultSet rs = s.executeQuery()) {
                rs.next();
                String what = "wal receiver " + job.name() + " (slot " + slot + ")";
                if (!rs.getBoolean(1) || rs.getInt(2) == 0) {
                    report.fail(what + ": " + (rs.getInt(2) == 0 ? "the server has max_wal_senders = 0"
                            : "role " + connection.user() + " may not replicate; HINT: ALTER ROLE " + connection.user()
                            + " REPLICATION"));
                    return;
                }
                if (rs.getObject(3) == null) {
                    report.ok(what + ": the slot is created when the service starts");
                } else if (rs.getBoolean(3)) {
                    report.ok(what + ": streaming; the server keeps " + io.stowage.Sizes.human(rs.getLong(4))
                            + " of WAL for it");
                } else {
                    report.warn(what + ": not streaming (is the service running?); the server keeps "
                            + io.stowage.Sizes.human(rs.getLong(4)) + " of WAL for it");
                }
            }
        } catch (Exception e) {
            report.fail("wal receiver " + job.name() + ": " + e.getMessage());
        }
    }
}
