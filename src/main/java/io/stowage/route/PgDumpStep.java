package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PgDump;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.pipeline.BackupStream;
import io.stowage.runtime.StowageServices;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * {@code stowage:pg-dump}: the source of a PostgreSQL logical backup. Connects first (a clear error for a wrong
 * password or an unreachable server, before any tool runs) to record the server version, then sets the body to a
 * {@link BackupStream} whose bytes are pg_dump's stdout; the dump itself runs when the store step pulls it. A
 * {@link io.stowage.engine.postgresql.CustomFormatTap} first in the chain records the dump's contents for the
 * manifest (rows per table, indexes, foreign keys), in the same pass.
 */
final class PgDumpStep implements Step {
    PgDumpStep(Map<String, String> parameters) {
        Steps.noParameters(parameters, "pg-dump");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) {
        BackupRun run = Step.run(exchange);
        if (!"postgresql".equals(run.job.engine())) {
            throw StowageException.usage("job '" + run.job.name() + "' is a " + run.job.engine()
                    + " job: stowage:pg-dump dumps PostgreSQL only");
        }
        PgConnection connection = PgConnection.of(run.job);
        run.serverVersion = new PostgresServer(connection).serverVersion();
        run.toolName = "pg_dump";
        run.toolVersion = PgDump.toolVersion(connection);
        run.database = connection.database();
        exchange.getIn().setBody(new BackupStream(new PgDump(connection)).stage(PgDump.tap(tap -> run.dumpTap = tap)));
    }
}
