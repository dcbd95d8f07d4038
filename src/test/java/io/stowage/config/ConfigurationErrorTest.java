package io.stowage.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad configuration stops check and run at once: one line naming the file (and line where Camel knows it), exit 2. */
class ConfigurationErrorTest {
    @TempDir
    Path dir;

    private Workspace.Result checkWith(String jobsYaml) throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(dir.resolve("routes/jobs.camel.yaml"), jobsYaml);
        return checkWithoutRewrite(ws);
    }

    private Workspace.Result checkWithoutRewrite(Workspace ws) throws Exception {
        var out = new java.io.StringWriter();
        var err = new java.io.StringWriter();
        int status = io.stowage.Stowage.execute(new String[] {"--config", dir.resolve("application.properties").toString(),
                "check"}, new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        return new Workspace.Result(status, out.toString(), err.toString());
    }

    private static void assertUsageError(Workspace.Result result, String... fragments) {
        assertThat(result.status()).as(result.toString()).isEqualTo(2);
        assertThat(result.err()).startsWith("error: ");
        assertThat(result.err().strip().lines()).hasSize(1);
        for (String fragment : fragments) {
            assertThat(result.err()).contains(fragment);
        }
    }

    private static String job(String extra) {
        return "- templatedRoute:\n    routeTemplateRef: postgresql-logical\n    routeId: backup-shop\n    parameters:\n"
                + "      - name: job\n        value: shop\n" + extra;
    }

    @Test
    void should_reject_malformed_yaml_naming_file_and_line() throws Exception {
        assertUsageError(checkWith(job("      - name: codec\n      value: zstd\n   - broken: [\n")),
                "jobs.camel.yaml", "line ");
    }

    @Test
    void should_reject_a_bad_cron_expression_naming_the_schedule_and_file() throws Exception {
        assertUsageError(checkWith(job("") + "- templatedRoute:\n    routeTemplateRef: schedule\n"
                        + "    routeId: schedule-shop-full\n    parameters:\n      - name: job\n        value: shop\n"
                        + "      - name: type\n        value: full\n      - name: cron\n        value: \"0 0 25 * * ?\"\n"),
                "route 'schedule-shop-full'", "'0 0 25 * * ?' is invalid", "Hour values must be between 0 and 23",
                "jobs.camel.yaml, line 9");
    }

    @Test
    void should_reject_a_schedule_for_a_type_the_job_does_not_support() throws Exception {
        assertUsageError(checkWith(job("") + "- templatedRoute:\n    routeTemplateRef: schedule\n"
                        + "    routeId: schedule-shop-diff\n    parameters:\n      - name: job\n        value: shop\n"
                        + "      - name: type\n        value: diff\n      - name: cron\n        value: \"0 0 2 ? * MON-SAT\"\n"),
                "job 'shop' (postgresql logical) supports [full] backups, not 'diff'");
    }

    @Test
    void should_reject_an_unknown_engine() throws Exception {
        assertUsageError(checkWith(job("      - name: engine\n        value: oracle\n")),
                "unknown engine 'oracle'", "backup-shop", "jobs.camel.yaml");
    }

    @Test
    void should_reject_an_unknown_engine_naming_those_there_are() throws Exception {
        assertUsageError(checkWith(job("      - name: engine\n        value: mongodb\n")),
                "unknown engine 'mongodb'", "this Stowage backs up postgresql, redis");
    }

    @Test
    void should_reject_a_method_the_engine_does_not_have_naming_those_it_has() throws Exception {
        assertUsageError(checkWith(job("      - name: method\n        value: incremental\n")),
                "job 'shop': engine postgresql has no method 'incremental'; it supports logical, physical",
                "backup-shop", "jobs.camel.yaml");
    }

    @Test
    void should_reject_a_missing_template_parameter() throws Exception {
        assertUsageError(checkWith("- templatedRoute:\n    routeTemplateRef: postgresql-logical\n    routeId: backup-x\n"),
                "job");
    }

    @Test
    void should_reject_an_unknown_codec() throws Exception {
        assertUsageError(checkWith(job("      - name: codec\n        value: brotli\n")), "unknown codec 'brotli'");
    }

    @Test
    void should_reject_an_unknown_storage_class() throws Exception {
        assertUsageError(checkWith(job("      - name: storageClass\n        value: COLDEST\n")),
                "job 'shop': 'COLDEST' is not an S3 storage class", "GLACIER_IR");
    }

    @Test
    void should_reject_an_unknown_repository_in_a_route() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Path template = dir.resolve("routes/postgresql-logical.camel.yaml");
        Files.writeString(template, Files.readString(template).replace("stowage:store\"",
                "stowage:store?repository=tape\""));
        assertUsageError(checkWithoutRewrite(ws), "unknown repository 'tape'");
    }

    @Test
    void should_reject_an_unknown_job_in_a_schedule() throws Exception {
        assertUsageError(checkWith(job("") + "- templatedRoute:\n    routeTemplateRef: schedule\n"
                        + "    routeId: schedule-nope-full\n    parameters:\n      - name: job\n        value: nope\n"
                        + "      - name: type\n        value: full\n      - name: cron\n        value: \"0 0 1 ? * SUN\"\n"),
                "unknown job 'nope'");
    }

    @Test
    void should_name_a_parameter_written_without_a_value() throws Exception {
        assertUsageError(checkWith("- templatedRoute:\n    routeTemplateRef: postgresql-logical\n    routeId: backup-x\n"
                + "    parameters:\n      - name: job\n"), "has a name but no value");
    }

    /** A logical job on the throwaway cluster, as a templated route block: {@code check} passes on it as it is. */
    private static String reachableJob(String routeId, String job, String... extraParameters) {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        StringBuilder yaml = new StringBuilder("- templatedRoute:\n    routeTemplateRef: postgresql-logical\n"
                + "    routeId: " + routeId + "\n    parameters:\n");
        String[] parameters = {"job", job, "host", pg.host(), "port", Integer.toString(pg.port()), "user",
                ThrowawayPostgres.USER, "password", ThrowawayPostgres.PASSWORD, "database", "postgres", "pgBin",
                pg.binDir().toString()};
        for (String[] pairs : new String[][] {parameters, extraParameters}) {
            for (int i = 0; i < pairs.length; i += 2) {
                yaml.append("      - name: ").append(pairs[i]).append("\n        value: \"").append(pairs[i + 1])
                        .append("\"\n");
            }
        }
        return yaml.toString();
    }

    private Path jobsFile() {
        return dir.resolve("routes/jobs.camel.yaml");
    }

    private Path configFile() {
        return dir.resolve("application.properties");
    }

    private static void assertRefused(Workspace.Result result, String line) {
        assertThat(result.status()).as(result.toString()).isEqualTo(2);
        assertThat(result.err()).as(result.toString()).isEqualTo(line + "\n");
    }

    @Test
    void should_refuse_two_job_blocks_with_the_same_route_id_naming_both_places() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        // 18 lines per block: the second block's routeId is on line 21.
        Files.writeString(jobsFile(), reachableJob("backup-shop", "shop") + reachableJob("backup-shop", "shop2"));
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: route id 'backup-shop' is declared "
                + "twice (" + jobsFile() + ", line 3 and " + jobsFile() + ", line 21); HINT: give each route its own id "
                + "(a job's is backup-<job>)");
    }

    @Test
    void should_refuse_a_job_whose_route_id_replaces_a_shipped_route() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(jobsFile(), reachableJob("notify", "shop"));
        Path service = dir.resolve("routes/service.camel.yaml");
        int notifyLine = Files.readAllLines(service).indexOf("    id: notify") + 1;
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: route id 'notify' is declared twice ("
                + jobsFile() + ", line 3 and " + service + ", line " + notifyLine + "); HINT: give each route its own "
                + "id (a job's is backup-<job>)");
    }

    @Test
    void should_refuse_a_copied_route_template_that_keeps_the_original_id() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Path original = dir.resolve("routes/postgresql-logical.camel.yaml");
        Path copy = dir.resolve("routes/postgresql-logical-nightly.camel.yaml");
        Files.writeString(copy, Files.readString(original).replace("codec}}&level={{level}}", "codec}}&level=19"));
        int line = Files.readAllLines(original).indexOf("    id: postgresql-logical") + 1;
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: route template 'postgresql-logical' is "
                + "declared twice (" + copy + ", line " + line + " and " + original + ", line " + line + "); HINT: "
                + "give each route template its own id");
    }

    @Test
    void should_refuse_a_template_parameter_the_template_does_not_declare_listing_those_it_does() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(jobsFile(), reachableJob("backup-shop", "shop", "compresion", "zstd"));
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: templated route 'backup-shop' ("
                + jobsFile() + ", line 19): template 'postgresql-logical' has no parameter 'compresion'; HINT: its "
                + "parameters are job, engine, method, host, port, user, password, database, pgBin, codec, level, "
                + "workers, repositories, storageClass, severity, notifySuccess, retention, retentionDiff, retentionIncr, logRetention, rtoSeconds, probes");
    }

    @Test
    void should_refuse_a_misspelt_template_parameter_with_the_closest_one() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(jobsFile(), reachableJob("backup-shop", "shop", "notify_success", "true"));
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: templated route 'backup-shop' ("
                + jobsFile() + ", line 19): template 'postgresql-logical' has no parameter 'notify_success'; HINT: did "
                + "you mean 'notifySuccess'?");
    }

    @Test
    void should_refuse_a_template_parameter_given_twice_naming_the_second() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(jobsFile(), reachableJob("backup-shop", "shop", "codec", "gzip", "level", "9", "codec",
                "zstd"));
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: templated route 'backup-shop' ("
                + jobsFile() + ", line 23): parameter 'codec' is given twice, and only the last would count; HINT: "
                + "keep one");
    }

    @Test
    void should_accept_a_template_parameter_in_the_dashed_form_camel_maps_to_it() throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(jobsFile(), reachableJob("backup-shop", "shop", "storage-class", "STANDARD_IA"));
        Workspace.Result check = checkWithoutRewrite(ws);
        assertThat(check.status()).as(check.toString()).isZero();
        assertThat(check.out()).contains("ok    job shop (postgresql logical)");
    }

    @Test
    void should_refuse_an_unknown_stowage_key_in_check_and_backup_naming_the_closest_key() throws Exception {
        Workspace ws = new Workspace(dir).property("stowage.repository.local.pth", "/srv/backups");
        String line = "error: invalid configuration: unknown key 'stowage.repository.local.pth' (" + configFile()
                + ", line " + ws.lastPropertyLine() + "); HINT: did you mean 'stowage.repository.local.path'?";
        assertRefused(ws.run("check"), line);
        assertRefused(ws.run("backup", "postgres"), line);
        assertThat(ws.repository().resolve("postgres")).doesNotExist();
    }

    @Test
    void should_refuse_a_key_in_a_camel_group_that_camel_does_not_read() throws Exception {
        Workspace ws = new Workspace(dir).property("camel.managment.port", "9999");
        assertRefused(ws.run("check"), "error: invalid configuration: unknown key 'camel.managment.port' ("
                + configFile() + ", line " + ws.lastPropertyLine() + "): Camel reads no keys under 'camel.managment.'; HINT: did you mean "
                + "'camel.management.'?");
    }

    @Test
    void should_refuse_an_unknown_key_when_the_service_starts() throws Exception {
        Workspace ws = new Workspace(dir).property("stowage.retry.atempts", "5");
        ws.writeConfiguration();
        Process run = StowageProcess.builder(dir, Map.of(), "run").start();
        run.getOutputStream().close();
        boolean ended = run.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            run.destroyForcibly().waitFor();
        }
        assertThat(ended).as("stowage run refused to start").isTrue();
        assertThat(run.exitValue()).isEqualTo(2);
        assertThat(new String(run.getErrorStream().readAllBytes())).isEqualTo("error: invalid configuration: unknown "
                + "key 'stowage.retry.atempts' (" + configFile() + ", line " + ws.lastPropertyLine() + "); HINT: did you mean "
                + "'stowage.retry.attempts'?\n");
    }

    /** An environment variable that no test environment sets. */
    private static final String UNSET = "STOWAGE_TEST_VARIABLE_NEVER_SET";

    @Test
    void should_refuse_a_setting_whose_environment_variable_is_not_set_instead_of_using_its_default()
            throws Exception {
        assertThat(System.getenv(UNSET)).isNull();
        // Without the refusal, no bucket means no S3 copy at all, and backups are silently kept on this host only.
        Workspace ws = new Workspace(dir).property("stowage.repository.s3.bucket", "{{env:" + UNSET + "}}");
        String line = "error: invalid configuration: stowage.repository.s3.bucket: environment variable " + UNSET
                + " is not set (in " + configFile() + ", line " + ws.lastPropertyLine() + "); HINT: set it, or give "
                + "the placeholder a default: {{env:" + UNSET + ":default}}";
        assertRefused(ws.run("check"), line);
        assertRefused(ws.run("backup", "postgres"), line);
        assertThat(ws.repository().resolve("postgres")).doesNotExist();
    }

    @Test
    void should_refuse_a_job_parameter_whose_environment_variable_is_not_set_naming_the_route_and_line()
            throws Exception {
        Workspace ws = new Workspace(dir);
        ws.writeConfiguration();
        Files.writeString(dir.resolve("routes/jobs.camel.yaml"), job("      - name: database\n        value: shop\n"
                + "      - name: password\n        value: \"{{env:" + UNSET + "}}\"\n"));
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: templated route 'backup-shop' ("
                + dir.resolve("routes/jobs.camel.yaml") + ", line 9): parameter 'password': environment variable "
                + UNSET + " is not set; HINT: set it, or give the placeholder a default: {{env:" + UNSET
                + ":default}}");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "stowage.retry.attempts             | -1     | must be at least 1",
        "stowage.retry.attempts             | 0      | must be at least 1",
        "stowage.retry.delay-ms             | 0      | must be at least 1",
        "stowage.retry.max-delay-ms         | -5     | must be at least 1",
        "stowage.schedule.lock-wait-seconds | 1h     | not a whole number",
        "stowage.staleness.margin-seconds   | -60    | must be at least 0",
        "stowage.repository.s3.part-size    | 16MiB  | not a whole number",
        "stowage.alert.slack.notify-success | yes    | must be true or false",
        "stowage.verify.jobs                | some   | must be one of all, critical",
    })
    void should_refuse_a_setting_whose_value_is_out_of_its_range_naming_the_key(String key, String value,
                                                                                String problem) throws Exception {
        Workspace ws = new Workspace(dir).property(key, value);
        assertRefused(ws.run("check"), "error: invalid configuration: " + key + " = " + value + ": " + problem
                + " (in " + configFile() + ", line " + ws.lastPropertyLine() + ")");
    }

    /** An age key pair from age-keygen: the secret key and its public key. */
    private String[] ageKeyPair() throws Exception {
        Path identity = dir.resolve("pasted.key");
        Process keygen = new ProcessBuilder("age-keygen", "-o", identity.toString()).redirectErrorStream(true).start();
        keygen.getInputStream().readAllBytes();
        assertThat(keygen.waitFor()).isZero();
        String secret = Files.readAllLines(identity).stream().filter(l -> l.startsWith("AGE-SECRET-KEY-1"))
                .findFirst().orElseThrow();
        String recipient = Files.readAllLines(identity).stream().filter(l -> l.startsWith("# public key: "))
                .map(l -> l.substring("# public key: ".length())).findFirst().orElseThrow();
        return new String[] {secret, recipient};
    }

    @Test
    void should_refuse_a_secret_key_in_age_recipients_without_printing_it() throws Exception {
        String[] key = ageKeyPair();
        Files.copy(Path.of("application.properties"), configFile());
        Files.createDirectories(dir.resolve("routes"));
        for (String file : new String[] {"error-handling", "jobs", "postgresql-logical",
                "postgresql-physical", "postgresql-wal", "service"}) {
            Files.copy(Path.of("routes", file + ".camel.yaml"), dir.resolve("routes/" + file + ".camel.yaml"));
        }
        Map<String, String> env = Map.of("AGE_RECIPIENTS", key[1] + "," + key[0], "STOWAGE_REPOSITORY",
                dir.resolve("backups").toString());
        String line = "error: invalid configuration: AGE_RECIPIENTS holds a secret key (AGE-SECRET-KEY-...), not a "
                + "public key; HINT: use the public key age-keygen -y prints\n";
        for (String[] command : new String[][] {{"check"}, {"--verbose", "backup", "postgres"}}) {
            Workspace.Result result = StowageProcess.run(dir, env, command);
            assertThat(result.status()).as(result.toString()).isEqualTo(2);
            if (command[0].equals("--verbose")) {
                assertThat(result.err()).as(result.toString()).contains(line);
            } else {
                assertThat(result.err()).as(result.toString()).isEqualTo(line);
            }
            assertThat(result.out() + result.err()).doesNotContain(key[0]).doesNotContain(key[0].substring(16, 40));
        }
    }

    @Test
    void should_refuse_a_malformed_age_recipient_in_check_shortening_it() throws Exception {
        String[] key = ageKeyPair();
        String damaged = key[1].substring(0, key[1].length() - 1) + (key[1].endsWith("q") ? "p" : "q");
        Workspace ws = new Workspace(dir).property("stowage.encryption.recipients", damaged);
        Workspace.Result check = ws.run("check");
        assertRefused(check, "error: invalid configuration: AGE_RECIPIENTS holds '" + damaged.substring(0, 12)
                + "...', which is not a valid age public key; HINT: use the public key age-keygen -y prints");
        Workspace.Result backup = ws.property("stowage.encryption.recipients", "not-a-key-at-all").run("backup",
                "postgres");
        assertRefused(backup, "error: invalid configuration: AGE_RECIPIENTS holds a value that is not an age public "
                + "key (age1...); HINT: use the public key age-keygen -y prints");
    }

    @Test
    void should_fail_check_when_the_wal_spool_is_missing_or_not_a_directory() throws Exception {
        Path spool = dir.resolve("spool");
        Workspace ws = new Workspace(dir).physicalJob("postgres", ThrowawayPostgres.get(), spool);
        Workspace.Result missing = ws.run("check");
        assertThat(missing.status()).as(missing.toString()).isEqualTo(1);
        assertThat(missing.out()).as(missing.toString()).contains("FAIL  wal postgres: spool " + spool + " does not "
                + "exist; HINT: create it, writable by the server's user and by this one (docs/postgresql.md, "
                + "\"Server set-up\")\n");
        assertThat(spool).doesNotExist();

        Files.writeString(spool, "a file where the spool should be");
        Workspace.Result file = ws.run("check");
        assertThat(file.status()).as(file.toString()).isEqualTo(1);
        assertThat(file.out()).as(file.toString()).contains("FAIL  wal postgres: spool " + spool + " is not a "
                + "directory\n");
    }

    @Test
    void should_refuse_to_start_the_service_on_a_missing_wal_spool_and_leave_it_uncreated() throws Exception {
        Path spool = dir.resolve("spool");
        Workspace ws = new Workspace(dir).physicalJob("postgres", ThrowawayPostgres.get(), spool)
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
        Throwable refused = null;
        try (io.stowage.runtime.StowageService service = ws.service()) {
            // started: the assertions below fail
        } catch (io.stowage.StowageException e) {
            refused = e;
        }
        assertThat(refused).isNotNull();
        assertThat(io.stowage.Failures.exitCode(refused)).isEqualTo(2);
        assertThat(refused.getMessage()).isEqualTo("invalid configuration: WAL of job 'postgres': spool " + spool
                + " does not exist; HINT: create it, writable by the server's user and by this one "
                + "(docs/postgresql.md, \"Server set-up\")");
        assertThat(spool).doesNotExist();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "rpoSeconds      | 1h   | not a whole number",
        "rpoSeconds      | 0    | must be at least 1",
        "partialSeconds  | abc  | not a whole number",
        "partialSeconds  | -1   | must be at least 0",
        "spoolLimitBytes | 10GB | not a whole number",
        "pollDelay       | 1s   | not a whole number",
    })
    void should_refuse_a_wal_parameter_that_is_not_a_number_naming_it(String parameter, String value, String problem)
            throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Workspace ws = new Workspace(dir).physicalJob("postgres", ThrowawayPostgres.get(), spool);
        ws.writeConfiguration();
        String jobs = Files.readString(jobsFile());
        String setting = "      - name: " + parameter + "\n        value: \"";
        jobs = jobs.contains(setting)
                ? jobs.replaceFirst("(?<=" + java.util.regex.Pattern.quote(setting) + ")[^\"]*", value)
                : jobs + setting + value + "\"\n";
        Files.writeString(jobsFile(), jobs);
        int line = Files.readAllLines(jobsFile()).indexOf("      - name: " + parameter) + 1;
        assertRefused(checkWithoutRewrite(ws), "error: invalid configuration: templated route 'wal-postgres' ("
                + jobsFile() + ", line " + line + "): " + parameter + " = " + value + ": " + problem);
    }
}
