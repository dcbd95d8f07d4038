package io.stowage.testing;

import io.stowage.Stowage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A working directory as an operator has it: application.properties, the project's own routes/ (the shipped
 * pipeline, unchanged), and a jobs file pointing at the throwaway PostgreSQL. Commands run in-process through
 * {@link Stowage#execute}, with their output captured.
 */
public final class Workspace {
    private final Path dir;
    private final Path repository;
    private final StringBuilder properties = new StringBuilder();
    private final java.util.Map<String, String> jobs = new java.util.LinkedHashMap<>();
    private final java.util.Map<String, String> schedules = new java.util.LinkedHashMap<>();

    public Workspace(Path dir) throws IOException {
        this.dir = dir;
        this.repository = dir.resolve("backups");
        Path routes = Files.createDirectories(dir.resolve("routes"));
        try (Stream<Path> shipped = Files.list(Path.of("routes"))) {
            for (Path file : shipped.toList()) {
                Files.copy(file, routes.resolve(file.getFileName()));
            }
        }
        property("stowage.repository.local.path", repository.toString());
        property("camel.main.stream-caching-enabled", "false");
        property("camel.main.jmx-enabled", "false");
        property("stowage.repository.s3.part-size", Integer.toString(5 * 1024 * 1024));
        // A service's management server takes a port the system chooses (ask ManagementServer.port for it): a port
        // chosen beforehand as "free" may be taken by anything on the machine before the service binds it.
        property("camel.management.host", "127.0.0.1");
        property("camel.management.port", "0");
        job("postgres", "postgres");
    }

    public Path dir() {
        return dir;
    }

    public Path repository() {
        return repository;
    }

    /** The line of application.properties the last {@link #property} call writes: where a message names it. */
    public int lastPropertyLine() {
        return (int) properties.chars().filter(c -> c == '\n').count();
    }

    public Workspace property(String key, String value) {
        properties.append(key).append(" = ").append(value).append('\n');
        return this;
    }

    /** Uses an S3 bucket of the in-JVM S3 server as the second repository. */
    public Workspace s3(String bucket, String prefix) {
        return s3(bucket, prefix, S3TestServer.get().endpoint());
    }

    public Workspace s3(String bucket, String prefix, String endpoint) {
        S3TestServer.get();
        property("stowage.repository.s3.bucket", bucket);
        property("stowage.repository.s3.prefix", prefix);
        property("stowage.repository.s3.endpoint", endpoint);
        property("stowage.repository.s3.region", "us-east-1");
        return this;
    }

    /** Replaces routes/jobs.camel.yaml with one job on {@code database} of the throwaway cluster. */
    public Workspace job(String job, String database, String... extra) throws IOException {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        List<String> params = new ArrayList<>(List.of("job", job, "host", pg.host(), "port",
                Integer.toString(pg.port()), "user", ThrowawayPostgres.USER, "password", ThrowawayPostgres.PASSWORD,
                "database", database, "pgBin", pg.binDir().toString()));
        for (int i = 0; i < extra.length; i += 2) {
            int existing = params.indexOf(extra[i]);
            if (existing >= 0 && existing % 2 == 0) {
                params.set(existing + 1, extra[i + 1]);
            } else {
                params.add(extra[i]);
                params.add(extra[i + 1]);
            }
        }
        StringBuilder yaml = new StringBuilder("- templatedRoute:\n    routeTemplateRef: postgresql-logical\n"
                + "    routeId: backup-" + job + "\n    parameters:\n");
        for (int i = 0; i < params.size(); i += 2) {
            yaml.append("      - name: ").append(params.get(i)).append("\n        value: \"")
                    .append(params.get(i + 1)).append("\"\n");
        }
        jobs.put(job, yaml.toString());
        return this;
    }

    /**
     * Like {@link #job}, then adds YAML lines (already indented as parameters, for example a block scalar) to the
     * job's templated route.
     */
    public Workspace job(String job, String database, List<String> extraYaml, String... extra) throws IOException {
        job(job, database, extra);
        jobs.put(job, jobs.get(job) + String.join("", extraYaml.stream().map(l -> l + "\n").toList()));
        return this;
    }

    /**
     * Replaces the jobs with one job from {@code template} (a route template id), with these parameters (name, value,
     * ...), and with {@code extraYaml} routes after it (a log route, say).
     */
    public Workspace templatedJob(String job, String template, List<String> parameters, String extraYaml) {
        jobs.clear();
        StringBuilder yaml = new StringBuilder("- templatedRoute:\n    routeTemplateRef: " + template
                + "\n    routeId: backup-" + job + "\n    parameters:\n" + param("job", job));
        for (int i = 0; i < parameters.size(); i += 2) {
            yaml.append(param(parameters.get(i), parameters.get(i + 1)));
        }
        jobs.put(job, yaml + extraYaml);
        return this;
    }

    /** Starts the service in this JVM, as {@code stowage run} does, with this workspace's configuration. */
    public io.stowage.runtime.StowageService service() throws IOException {
        return io.stowage.runtime.StowageService.start(writeConfiguration());
    }

    /**
     * Replaces the jobs with one physical job on {@code cluster} (all its databases), and its WAL archiving from
     * {@code spool}.
     */
    public Workspace physicalJob(String job, ThrowawayPostgres cluster, Path spool) {
        return physicalJob(job, cluster, spool, "archive_command");
    }

    /** A physical job whose spool is filled by {@code receiver}: archive_command or pg_receivewal. */
    public Workspace physicalJob(String job, ThrowawayPostgres cluster, Path spool, String receiver) {
        return physicalJob(job, cluster, spool, receiver, List.of());
    }

    /**
     * A physical job with WAL archiving from {@code spool} (archive_command), with {@code extra} parameters of the
     * backup route (name, value, ...): a retention policy, say.
     */
    public Workspace physicalJob(String job, ThrowawayPostgres cluster, Path spool, List<String> extra) {
        return physicalJob(job, cluster, spool, "archive_command", extra);
    }

    private Workspace physicalJob(String job, ThrowawayPostgres cluster, Path spool, String receiver,
                                  List<String> extra) {
        StringBuilder more = new StringBuilder();
        for (int i = 0; i < extra.size(); i += 2) {
            more.append(param(extra.get(i), extra.get(i + 1)));
        }
        jobs.clear();
        jobs.put(job, "- templatedRoute:\n    routeTemplateRef: postgresql-physical\n    routeId: backup-" + job
                + "\n    parameters:\n"
                + param("job", job) + param("host", cluster.host()) + param("port", Integer.toString(cluster.port()))
                + param("user", ThrowawayPostgres.USER) + param("password", ThrowawayPostgres.PASSWORD)
                + param("database", "postgres") + param("pgBin", cluster.binDir().toString()) + more
                + "- templatedRoute:\n    routeTemplateRef: postgresql-wal\n    routeId: wal-" + job
                + "\n    parameters:\n" + param("job", job) + param("spool", spool.toString())
                + param("receiver", receiver) + param("pollDelay", "100")
                + ("pg_receivewal".equals(receiver) ? param("partialSeconds", "1") : ""));
        return this;
    }

    private static String param(String name, String value) {
        return "      - name: " + name + "\n        value: \"" + value + "\"\n";
    }

    /** Adds (or replaces) a schedule for {@code job} in routes/jobs.camel.yaml. */
    public Workspace schedule(String job, String type, String cron) {
        schedules.put(job + "-" + type, "- templatedRoute:\n    routeTemplateRef: schedule\n"
                + "    routeId: schedule-" + job + "-" + type + "\n    parameters:\n"
                + "      - name: job\n        value: \"" + job + "\"\n"
                + "      - name: type\n        value: \"" + type + "\"\n"
                + "      - name: cron\n        value: \"" + cron + "\"\n");
        return this;
    }

    /** Writes application.properties and routes/jobs.camel.yaml as the workspace now has them. */
    public Path writeConfiguration() throws IOException {
        Files.writeString(dir.resolve("routes/jobs.camel.yaml"),
                String.join("", jobs.values()) + String.join("", schedules.values()));
        Path config = dir.resolve("application.properties");
        Files.writeString(config, properties);
        return config;
    }

    /** Runs {@code stowage --config <dir>/application.properties ARGS}. */
    public Result run(String... args) throws IOException {
        writeConfiguration();
        List<String> all = new ArrayList<>(List.of("--config", dir.resolve("application.properties").toString()));
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        // A command sets the logging of its whole process, as the one command a process runs; here the process is
        // the test JVM, perhaps with a service running in it, whose logging must stay as it was.
        ch.qos.logback.classic.LoggerContext logging =
                (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        ch.qos.logback.classic.Level app = logging.getLogger("io.stowage").getLevel();
        ch.qos.logback.classic.Level root = logging.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel();
        java.util.Map<String, String> properties = new java.util.HashMap<>();
        for (String key : List.of("stowage.log.app", "stowage.log.root")) {
            properties.put(key, System.getProperty(key));
        }
        try {
            int status = Stowage.execute(all.toArray(String[]::new), new PrintWriter(out, true),
                    new PrintWriter(err, true));
            return new Result(status, out.toString(), err.toString());
        } finally {
            logging.getLogger("io.stowage").setLevel(app);
            logging.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(root);
            properties.forEach((key, value) -> {
                if (value == null) {
                    System.clearProperty(key);
                } else {
                    System.setProperty(key, value);
                }
            });
        }
    }

    /** What a command printed and returned. */
    public record Result(int status, String out, String err) {
        /** The last line on stdout: for backup, the new backup's id. */
        public String lastLine() {
            String[] lines = out.strip().split("\\R");
            return lines[lines.length - 1];
        }

        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }
}
