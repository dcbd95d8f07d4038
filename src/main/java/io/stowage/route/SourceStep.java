package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.engine.BackupRequest;
import io.stowage.engine.BackupSource;
import io.stowage.engine.Engine;
import io.stowage.services.StowageServices;
import java.util.Map;
import org.apache.camel.Exchange;

/**
 * The source step of a backup route, under the name an engine gives it ({@code stowage:pg-dump},
 * {@code stowage:pg-basebackup}, {@code stowage:redis-rdb}): asks the job's engine to start the backup (it reaches
 * the server first, so a wrong password or an unreachable server is a clear error before any tool runs) and sets
 * the body to the {@link io.stowage.pipeline.BackupStream} of its bytes; the tool runs when the store step pulls it.
 */
final class SourceStep implements Step {
    private final String step;
    private final Engine engine;
    private final String method;

    SourceStep(String step, Engine engine, String method, Map<String, String> parameters) {
        this.step = step;
        this.engine = engine;
        this.method = method;
        Steps.noParameters(parameters, step);
    }

    @Override
    public void process(Exchange exchange, StowageServices services) {
        BackupRun run = Step.run(exchange);
        if (!engine.name().equals(run.job.engine())) {
            throw StowageException.usage("job '" + run.job.name() + "' is a " + run.job.engine() + " job: stowage:"
                    + step + " backs up " + engine.name() + " only");
        }
        if (!method.equals(run.job.method())) {
            throw StowageException.usage("job '" + run.job.name() + "' makes " + run.job.method() + " backups: stowage:"
                    + step + " makes " + method + " ones");
        }
        BackupSource source = engine.openSource(run.job, method, new BackupRequest(run.id, run.type, null,
                run.warnings::add), services.context(run.warnings::add));
        run.source = source;
        exchange.getIn().setBody(source.stream());
    }
}
