package io.stowage.cli;

import io.stowage.engine.postgresql.PgConnection;
import io.stowage.engine.postgresql.PgDump;
import io.stowage.engine.postgresql.PostgresServer;
import io.stowage.job.Job;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageRuntime;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code check [JOB]}: validates configuration and routes, reaches each job's database and every repository. */
@Command(name = "check", description = "Validate configuration and routes, and reach each job's database and "
        + "repositories.")
final class CheckCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", arity = "0..1", description = "Check this job only.")
    String jobName;

    @Override
    public Integer call() {
        try (StowageRuntime runtime = startRuntime(false)) {
            out().println("ok    configuration " + top.config.toAbsolutePath().normalize() + " and its routes");
            boolean failed = false;
            List<Job> jobs = jobName == null ? List.copyOf(runtime.services().jobs().all())
                    : List.of(runtime.services().jobs().get(jobName));
            for (Job job : jobs) {
                failed |= !checkJob(job);
            }
            for (Repository repository : runtime.services().repositories().all()) {
                try {
                    repository.check();
                    out().println("ok    repository " + repository.name() + " at " + repository.location());
                } catch (Exception e) {
                    failed = true;
                    out().println("FAIL  repository " + repository.name() + ": " + e.getMessage());
                }
            }
            out().flush();
            if (failed) {
                err().println("error: check found problems (marked FAIL above)");
                return 1;
            }
            return 0;
        }
    }

    private boolean checkJob(Job job) {
        try {
            if (job.engine().equals("postgresql")) {
                PgConnection connection = PgConnection.of(job);
                String server = new PostgresServer(connection).serverVersion();
                String tool = PgDump.toolVersion(connection);
                out().println("ok    job " + job.describe() + ": PostgreSQL " + server + " at " + connection.host() + ":"
                        + connection.port() + "/" + connection.database() + ", pg_dump " + tool);
            } else {
                out().println("FAIL  job " + job.describe() + ": unknown engine '" + job.engine() + "'");
                return false;
            }
            return true;
        } catch (RuntimeException e) {
            out().println("FAIL  job " + job.describe() + ": " + io.stowage.Secrets.mask(e.getMessage()));
            return false;
        }
    }
}
