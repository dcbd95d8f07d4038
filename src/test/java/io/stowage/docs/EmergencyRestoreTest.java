package io.stowage.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/emergency-restore.md works as written: its logical-restore commands (steps 2 to 4, the local-repository
 * variants) run in a shell with only standard tools, on an encrypted backup Stowage made.
 */
class EmergencyRestoreTest {
    @TempDir
    Path dir;

    /** The shell blocks of the page's "PostgreSQL logical backup" section, in order. */
    private static List<String> logicalSteps() throws Exception {
        String page = Files.readString(Path.of("docs/emergency-restore.md"));
        String section = page.substring(page.indexOf("## PostgreSQL logical backup"), page.indexOf("## PostgreSQL physical"));
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL).matcher(section);
        while (m.find()) {
            blocks.add(m.group(1).replaceAll("(?m)^   ", ""));
        }
        return blocks;
    }

    @Test
    void should_restore_an_encrypted_logical_backup_with_the_documented_commands() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "emergency_source");
        Path identity = dir.resolve("key.txt");
        Process keygen = new ProcessBuilder("age-keygen", "-o", identity.toString()).redirectErrorStream(true).start();
        keygen.getInputStream().readAllBytes();
        assertThat(keygen.waitFor()).isZero();
        String recipient = Files.readAllLines(identity).stream().filter(l -> l.startsWith("# public key: "))
                .map(l -> l.substring(14)).findFirst().orElseThrow();
        Workspace ws = new Workspace(dir.resolve("stowage").toFile().mkdirs() ? dir.resolve("stowage") : dir)
                .job("postgres", "emergency_source").property("stowage.encryption.recipients", recipient);
        String id = ws.run("backup", "postgres").lastLine();
        pg.dropDatabase("shop_restored");

        List<String> steps = logicalSteps();
        assertThat(steps).hasSize(4);
        // Step 1 lists (the aws line needs S3); steps 2 to 4 restore. Comments and the S3 alternatives stay as they are.
        String script = "set -e\n" + steps.get(1) + steps.get(2) + steps.get(3);
        ProcessBuilder shell = new ProcessBuilder("bash", "-c", script).directory(dir.toFile()).redirectErrorStream(true);
        shell.environment().put("REPO", ws.repository().toString());
        shell.environment().put("JOB", "postgres");
        shell.environment().put("ID", id);
        shell.environment().put("AGE_IDENTITY_FILE", identity.toString());
        shell.environment().put("PGHOST", pg.host());
        shell.environment().put("PGPORT", Integer.toString(pg.port()));
        shell.environment().put("PGUSER", ThrowawayPostgres.USER);
        shell.environment().put("PGPASSWORD", ThrowawayPostgres.PASSWORD);
        shell.environment().put("PGDATABASE", "postgres");
        shell.environment().put("PATH", pg.binDir() + ":" + System.getenv("PATH"));
        Process process = shell.start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(output).isZero();
        assertThat(output).contains("dump.pgfc.zst.age: OK");
        assertThat(SampleDatabase.contents(pg, "shop_restored")).isEqualTo(SampleDatabase.contents(pg, "emergency_source"));
        pg.dropDatabase("shop_restored");
        pg.dropDatabase("emergency_source");
    }
}
