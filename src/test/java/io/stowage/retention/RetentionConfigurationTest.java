package io.stowage.retention;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retention setting that does not parse stops every command at once, before anything is expired: one line naming
 * the file and line and what is accepted, exit 2.
 */
class RetentionConfigurationTest {
    private static final String ACCEPTED = "a number of full backups (4), a window (30d, 8w, 6m or 7y) or "
            + "grandfather-father-son (7d,5w,12m,7y";

    @TempDir
    Path dir;

    private static Path jobsFile(Workspace ws) {
        return ws.dir().resolve("routes/jobs.camel.yaml");
    }

    /** The line of routes/jobs.camel.yaml where parameter {@code name} is given. */
    private static int lineOf(Workspace ws, String name) throws Exception {
        return Files.readAllLines(jobsFile(ws)).indexOf("      - name: " + name) + 1;
    }

    private static void assertRefused(Workspace.Result result, String... fragments) {
        assertThat(result.status()).as(result.toString()).isEqualTo(2);
        assertThat(result.out()).as(result.toString()).isEmpty();
        assertThat(result.err().lines().toList()).as(result.toString()).singleElement().asString()
                .startsWith("error: ").contains(fragments);
    }

    @Test
    void should_refuse_a_retention_parameter_that_does_not_parse_naming_its_file_line_and_the_accepted_forms()
            throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", "postgres", "retention", "3x");
        ws.writeConfiguration();
        int line = lineOf(ws, "retention");
        assertThat(line).isPositive();
        for (List<String> command : List.of(List.of("check"), List.of("expire"), List.of("expire", "--dry-run"),
                List.of("list"))) {
            assertRefused(ws.run(command.toArray(String[]::new)), "job 'postgres': retention '3x' is not a policy; "
                    + "it must be " + ACCEPTED, "(" + jobsFile(ws) + ", line " + line + ")");
        }
    }

    @Test
    void should_refuse_a_log_retention_that_is_not_a_number_of_days() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", "postgres", "retention", "4", "logRetention", "abc");
        ws.writeConfiguration();
        int line = lineOf(ws, "logRetention");
        for (List<String> command : List.of(List.of("check"), List.of("expire"))) {
            assertRefused(ws.run(command.toArray(String[]::new)), "job 'postgres': logRetention 'abc' is not a "
                    + "number of days (like 14 or 14d)", "(" + jobsFile(ws) + ", line " + line + ")");
        }
        Workspace zero = new Workspace(dir.resolve("zero")).job("postgres", "postgres", "retention", "4", "retentionDiff", "0");
        zero.writeConfiguration();
        assertRefused(zero.run("check"), "job 'postgres': retentionDiff '0' must be at least 1 day", "(" + jobsFile(zero)
                + ", line " + lineOf(zero, "retentionDiff") + ")");
    }

    @Test
    void should_refuse_a_repository_retention_that_does_not_parse_naming_application_properties_and_its_line()
            throws Exception {
        Workspace ws = new Workspace(dir).property("stowage.repository.local.retention", "30x");
        int line = ws.lastPropertyLine();
        Path config = dir.resolve("application.properties");
        for (List<String> command : List.of(List.of("check"), List.of("expire"), List.of("pin", "postgres",
                "20261121T020000Z-F"))) {
            Workspace.Result result = ws.run(command.toArray(String[]::new));
            assertRefused(result, "stowage.repository.local.retention", "30x", ACCEPTED, config.toString(),
                    "line " + line);
        }
        // A named repository's too.
        Workspace named = new Workspace(dir.resolve("named")).property("stowage.repositories", "local, nas")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", dir.resolve("nas").toString())
                .property("stowage.repository.nas.retention", "7d,7d");
        assertRefused(named.run("expire"), "stowage.repository.nas.retention", "gives 'd' twice",
                named.dir().resolve("application.properties").toString(),
                "line " + named.lastPropertyLine());
    }
}
