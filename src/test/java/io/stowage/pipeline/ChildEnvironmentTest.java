package io.stowage.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.SampleDatabase;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tool Stowage starts gets what it needs (its libpq settings, PGPASSWORD, the usual PATH, HOME and locale), and
 * none of Stowage's other secrets: a pg_dump that records its environment, in a Stowage started the way an operator
 * starts it, with the AWS keys, the alert webhook and routing key and age settings in its own environment.
 */
class ChildEnvironmentTest {
    private static final String SOURCE = "child_env_source";

    @TempDir
    Path dir;

    @Test
    void should_give_a_tool_its_libpq_settings_and_none_of_the_other_secrets() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path recorded = dir.resolve("pg_dump.env");
        Path script = bin.resolve("pg_dump");
        Files.writeString(script, "#!/bin/sh\nenv > '" + recorded + "'\nexec '" + pg.binDir().resolve("pg_dump")
                + "' \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        Workspace ws = new Workspace(dir).job("postgres", SOURCE, "pgBin", bin.toString());

        Map<String, String> secrets = new HashMap<>(Map.of(
                "AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00",
                "AWS_SECRET_ACCESS_KEY", "aws-secret-0123456789abcdef",
                "AWS_SESSION_TOKEN", "aws-session-token-0123456789",
                "STOWAGE_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/webhook-secret",
                "STOWAGE_PAGERDUTY_ROUTING_KEY", "pagerduty-routing-key-0123",
                "AGE_IDENTITY_FILE", dir.resolve("identity.txt").toString(),
                "AGE_PASSPHRASE_FILE", dir.resolve("passphrase.txt").toString(),
                // The job's password under another name, as a connection URL: a known secret's value.
                "DATABASE_URL", "postgresql://" + ThrowawayPostgres.USER + ":" + ThrowawayPostgres.PASSWORD
                        + "@localhost/x"));
        // Other tools' passwords, which no job of this configuration registers as secrets.
        secrets.put("REDISCLI_AUTH", "redis-password-0123456789");
        secrets.put("MYSQL_PWD", "mysql-password-0123456789");
        Map<String, String> env = new HashMap<>(secrets);
        env.put("PGSSLMODE", "prefer");
        env.put("PGCONNECT_TIMEOUT", "7");
        env.put("LANG", "C.UTF-8");
        Workspace.Result backup = StowageProcess.run(dir, env, "--config", ws.writeConfiguration().toString(),
                "backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();

        List<String> lines = Files.readAllLines(recorded);
        Map<String, String> child = new HashMap<>();
        for (String line : lines) {
            int equals = line.indexOf('=');
            if (equals > 0) {
                child.put(line.substring(0, equals), line.substring(equals + 1));
            }
        }
        assertThat(child.keySet()).as("names in the tool's environment").doesNotContainAnyElementsOf(secrets.keySet());
        for (String value : secrets.values()) {
            assertThat(String.join("\n", lines)).doesNotContain(value);
        }
        // What pg_dump needs: its connection (the job's), libpq's own settings, and the environment of any program.
        assertThat(child).containsEntry("PGPASSWORD", ThrowawayPostgres.PASSWORD)
                .containsEntry("PGHOST", pg.host()).containsEntry("PGPORT", Integer.toString(pg.port()))
                .containsEntry("PGUSER", ThrowawayPostgres.USER).containsEntry("PGDATABASE", SOURCE)
                .containsEntry("PGSSLMODE", "prefer").containsEntry("PGCONNECT_TIMEOUT", "10")
                .containsEntry("LANG", "C.UTF-8").containsKeys("PATH", "HOME");
    }
}
