package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that answers but refuses the login: the hint is about the role, its password and pg_hba.conf (what the
 * operator must fix), never about the host and port, which were right.
 */
class LoginFailureTest {
    @TempDir
    Path dir;

    @Test
    void should_hint_at_the_role_and_its_password_when_the_password_is_wrong_or_missing() throws Exception {
        ThrowawayPostgres.get();
        Workspace ws = new Workspace(dir).job("shop", "postgres");
        Workspace.Result backup = ws.run("backup", "shop"); // so that restore gets as far as the server
        assertThat(backup.status()).as(backup.toString()).isZero();
        org.assertj.core.api.SoftAssertions softly = new org.assertj.core.api.SoftAssertions();
        // A wrong password (the server's FATAL 28P01), and none at all (refused by the driver before it tries).
        for (String[] attempt : new String[][] {{"not-the-password", "restore", "shop", "--target-database",
                "login_target"}, {"", "backup", "shop"}}) {
            ws.job("shop", "postgres", "password", attempt[0]);
            Workspace.Result result = ws.run(java.util.Arrays.copyOfRange(attempt, 1, attempt.length));
            softly.assertThat(result.status()).as(result.toString()).isEqualTo(1);
            softly.assertThat(result.err().strip()).as(result.toString()).startsWith("error: ").doesNotContain("\n")
                    .contains("user '" + ThrowawayPostgres.USER + "'")
                    .contains("HINT: ").contains("password").contains("PGPASSWORD").contains("~/.pgpass")
                    .contains("pg_hba.conf").doesNotContain("PGHOST").doesNotContain("PGPORT")
                    .doesNotContain("not-the-password");
        }
        softly.assertAll();
    }
}
