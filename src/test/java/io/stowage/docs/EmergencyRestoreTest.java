package io.stowage.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
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
 * variants) and its physical point-in-time restore run in a shell with only standard tools, on encrypted backups
 * Stowage made.
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

    /** The shell block of the page's "PostgreSQL physical backup" section. */
    private static String physicalBlock() throws Exception {
        String page = Files.readString(Path.of("docs/emergency-restore.md"));
        String section = page.substring(page.indexOf("## PostgreSQL physical backup"));
        Matcher m = Pattern.compile("```sh\\n(.*?)```", Pattern.DOTALL).matcher(section);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private static String ageRecipient(Path identity) throws Exception {
        Process keygen = new ProcessBuilder("age-keygen", "-o", identity.toString()).redirectErrorStream(true).start();
        keygen.getInputStream().readAllBytes();
        assertThat(keygen.waitFor()).isZero();
        return Files.readAllLines(identity).stream().filter(l -> l.startsWith("# public key: "))
                .map(l -> l.substring(14)).findFirst().orElseThrow();
    }

    @Test
    void should_restore_an_encrypted_physical_backup_to_a_point_in_time_with_the_documented_commands() throws Exception {
        Path spool = ThrowawayPostgres.serverWritableDirectory(Files.createTempDirectory(Path.of("/tmp"),
                "stowage-emergency-spool-"));
        Path home = ThrowawayPostgres.serverWritableDirectory(Files.createTempDirectory(Path.of("/tmp"),
                "stowage-emergency-"));
        ThrowawayPostgres cluster = WalTesting.archivingCluster(spool);
        try {
            cluster.execute("postgres", "CREATE TABLE t (id serial PRIMARY KEY, note text)",
                    "INSERT INTO t (note) SELECT 'base' FROM generate_series(1, 50)");
            Path identity = dir.resolve("key.txt");
            Workspace ws = new Workspace(dir.resolve("stowage").toFile().mkdirs() ? dir.resolve("stowage") : dir)
                    .physicalJob("postgres", cluster, spool)
                    .property("stowage.encryption.recipients", ageRecipient(identity))
                    .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
            java.time.Instant target;
            try (io.stowage.runtime.StowageService service = ws.service()) {
                WalTesting.backupNow(service, "postgres");
                cluster.execute("postgres", "INSERT INTO t (note) SELECT 'before' FROM generate_series(1, 20)");
                Thread.sleep(1100);
                target = WalTesting.serverNow(cluster);
                Thread.sleep(1100);
                cluster.execute("postgres", "INSERT INTO t (note) SELECT 'after' FROM generate_series(1, 10)");
                String last = WalTesting.switchWal(cluster);
                Path shipped = ws.repository().resolve("postgres/wal/" + last + ".zst.age.sha256");
                long deadline = System.currentTimeMillis() + 60_000;
                while (!Files.exists(shipped) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(shipped).exists();
            }
            String id = io.stowage.catalog.ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0).get("id")
                    .asText();
            Path restored = home.resolve("pg-restore");
            String block = physicalBlock();
            assertThat(block).contains("TARGET=/srv/pg-restore\n").contains("recovery_target_time = '")
                    .contains("pg_ctl -D \"$TARGET\" start");
            // As an operator would: their directory and time; the server is started below as its own user.
            String script = "set -e\n" + block.replace("TARGET=/srv/pg-restore\n", "TARGET=" + restored + "\n")
                    .replaceAll("recovery_target_time = '[^']*'", "recovery_target_time = '"
                            + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS")
                            .withZone(java.time.ZoneOffset.UTC).format(target) + "+00'")
                    .replaceAll("(?m)^pg_ctl .*$", "");
            ProcessBuilder shell = new ProcessBuilder("bash", "-c", script).directory(dir.toFile())
                    .redirectErrorStream(true);
            shell.environment().put("REPO", ws.repository().toString());
            shell.environment().put("JOB", "postgres");
            shell.environment().put("ID", id);
            shell.environment().put("AGE_IDENTITY_FILE", identity.toString());
            Process process = shell.start();
            String output = new String(process.getInputStream().readAllBytes());
            assertThat(process.waitFor()).as(output).isZero();
            if ("root".equals(System.getProperty("user.name"))) {
                assertThat(new ProcessBuilder("chown", "-R", "postgres", restored.toString()).start().waitFor())
                        .isZero();
            }
            ThrowawayPostgres server = ThrowawayPostgres.startExisting(restored);
            try {
                server.awaitRecoveryEnd();
                assertThat(count(server, "note = 'base'")).isEqualTo(50);
                assertThat(count(server, "note = 'before'")).isEqualTo(20);
                assertThat(count(server, "note = 'after'")).isZero();
            } finally {
                server.stop();
            }
        } finally {
            cluster.stop();
            ThrowawayPostgres.deleteTree(home);
            ThrowawayPostgres.deleteTree(spool);
        }
    }

    private static long count(ThrowawayPostgres server, String where) throws Exception {
        return server.number("postgres", "SELECT count(*) FROM t WHERE " + where);
    }

    @Test
    void should_restore_an_encrypted_logical_backup_with_the_documented_commands() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "emergency_source");
        Path identity = dir.resolve("key.txt");
        String recipient = ageRecipient(identity);
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
