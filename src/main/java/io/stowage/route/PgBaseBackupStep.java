package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.engine.postgresql.PgBaseBackup;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.pipeline.BackupStream;
import io.stowage.runtime.StowageServices;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * {@code stowage:pg-basebackup}: the source of a PostgreSQL physical backup. Checks that the server archives its WAL
 * (a base backup without the WAL it needs cannot be restored), records the cluster's identity, and sets the body to
 * a {@link BackupStream} of pg_basebackup's tar output.
 */
final class PgBaseBackupStep implements Step {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PgBaseBackupStep.class);

    PgBaseBackupStep(Map<String, String> parameters) {
        Steps.noParameters(parameters, "pg-basebackup");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) {
        BackupRun run = Step.run(exchange);
        if (!"postgresql".equals(run.job.engine())) {
            throw StowageException.usage("job '" + run.job.name() + "' is a " + run.job.engine()
                    + " job: stowage:pg-basebackup backs up PostgreSQL only");
        }
        PgConnection connection = PgConnection.of(run.job);
        PostgresServer server = new PostgresServer(connection);
        Map<String, String> details = server.clusterDetails();
        run.serverVersion = details.get("serverVersion");
        boolean streamed = io.stowage.schedule.WalArchive.from(exchange.getContext()).stream()
                .anyMatch(archive -> archive.job().equals(run.job.name()) && archive.streams());
        if ("off".equals(details.get("archiveMode")) && !streamed) {
            throw StowageException.usage("PostgreSQL at " + connection.host() + ":" + connection.port() + " does not "
                    + "archive its WAL (archive_mode = off); HINT: set archive_mode = on and archive_command as "
                    + "docs/postgresql.md shows, then restart the server, or stream it with the job's WAL route "
                    + "(receiver pg_receivewal)");
        }
        String unlogged = server.unloggedWarning(run.job.name());
        if (unlogged != null) {
            LOG.warn("{}", unlogged);
            run.warnings.add(unlogged);
        }
        run.serverDetails = Map.of("systemIdentifier", details.get("systemIdentifier"));
        run.walSegmentSize = Long.parseLong(details.get("walSegmentSize"));
        run.toolName = "pg_basebackup";
        run.toolVersion = PgBaseBackup.toolVersion(connection);
        run.database = connection.database();
        PgBaseBackup source = new PgBaseBackup(connection, "stowage " + run.id);
        run.baseBackup = source;
        exchange.getIn().setBody(new BackupStream(source).stage(source.tap()));
    }
}
