package io.stowage.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.StowageException;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups encrypted in the age format: restored by Stowage, readable by the age tool, and the other way round. */
class AgeEncryptionTest {
    @TempDir
    Path dir;

    /** A key pair from age-keygen: the identity file and its public key. */
    private record Key(Path identity, String recipient) {
    }

    private Key keygen(String name) throws Exception {
        Path identity = dir.resolve(name + ".key");
        Process process = new ProcessBuilder("age-keygen", "-o", identity.toString()).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        assertThat(process.waitFor()).isZero();
        String recipient = Files.readAllLines(identity).stream().filter(l -> l.startsWith("# public key: "))
                .map(l -> l.substring("# public key: ".length())).findFirst().orElseThrow();
        return new Key(identity, recipient);
    }

    private static byte[] run(byte[] input, String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Thread feeder = new Thread(() -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(input);
            } catch (Exception ignored) {
                // the process stopped reading
            }
        });
        feeder.start();
        byte[] output = process.getInputStream().readAllBytes();
        assertThat(process.waitFor()).as(String.join(" ", command)).isZero();
        return output;
    }

    @Test
    void should_write_what_the_age_tool_decrypts_and_read_what_it_encrypts() throws Exception {
        Key key = keygen("interop");
        byte[] data = new byte[300_000];
        new Random(3).nextBytes(data);

        ByteArrayOutputStream encrypted = new ByteArrayOutputStream();
        try (OutputStream out = AgeEncryption.encrypt(encrypted, List.of(key.recipient()))) {
            out.write(data);
        }
        assertThat(run(encrypted.toByteArray(), "age", "-d", "-i", key.identity().toString())).isEqualTo(data);

        byte[] byTool = run(data, "age", "-r", key.recipient());
        assertThat(AgeEncryption.decrypt(new ByteArrayInputStream(byTool), AgeEncryption.identities(key.identity()))
                .readAllBytes()).isEqualTo(data);
    }

    @Test
    void should_refuse_to_decrypt_with_a_key_that_is_not_a_recipient() throws Exception {
        Key right = keygen("right");
        Key wrong = keygen("wrong");
        byte[] byTool = run("secret".getBytes(StandardCharsets.UTF_8), "age", "-r", right.recipient());
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(byTool),
                AgeEncryption.identities(wrong.identity())).readAllBytes()).isInstanceOf(StowageException.class)
                .hasMessageContaining("none of the identities");
    }

    @Test
    void should_warn_about_an_identity_file_others_can_read_and_say_what_is_wrong_with_a_missing_one()
            throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "age_exposed");
        Key key = keygen("exposed");
        Workspace ws = new Workspace(dir).job("postgres", "age_exposed")
                .property("stowage.encryption.recipients", key.recipient())
                .property("stowage.encryption.identity-file", key.identity().toString());
        assertThat(ws.run("backup", "postgres").status()).isZero();
        Files.setPosixFilePermissions(key.identity(), java.nio.file.attribute.PosixFilePermissions.fromString(
                "rw-r--r--"));
        String warning = "age identity file " + key.identity() + " is readable by others (rw-r--r--); HINT: chmod 600 "
                + key.identity();

        Workspace.Result check = ws.run("check");
        assertThat(check.out()).as(check.toString()).contains("WARN  " + warning);
        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "age_exposed_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.err().lines().toList()).as(restore.toString()).containsExactly("warning: " + warning);
        pg.dropDatabase("age_exposed_copy");
        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isZero();
        assertThat(verify.err()).as(verify.toString()).contains("warning: " + warning);

        // A missing identity file: the error line says what is wrong with it, not only its path.
        Path missing = dir.resolve("no-such.key");
        Workspace.Result refused = ws.property("stowage.encryption.identity-file", missing.toString())
                .run("restore", "postgres", "--target-database", "age_missing");
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err().strip()).as(refused.toString()).isEqualTo("error: cannot read age identity file "
                + missing + ": no such file or directory");
        pg.dropDatabase("age_exposed");
    }

    @Test
    void should_encrypt_backups_to_the_recipients_and_restore_them_with_the_identity() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "age_source");
        Key first = keygen("first");
        Key second = keygen("second");
        Workspace ws = new Workspace(dir).job("postgres", "age_source")
                .property("stowage.encryption.recipients", first.recipient() + "," + second.recipient())
                .property("stowage.encryption.identity-file", second.identity().toString());
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(entry.get("encrypted").asBoolean()).isTrue();
        Path object = ws.repository().resolve("postgres").resolve(id).resolve("dump.pgfc.zst.age");
        assertThat(object).exists();
        JsonNode manifest = ManifestCodec.JSON.readTree(ws.repository().resolve("postgres").resolve(id)
                .resolve("manifest.json").toFile());
        assertThat(manifest.get("encryption").get("format").asText()).isEqualTo("age");
        assertThat(manifest.get("encryption").get("recipients").toString()).contains(first.recipient(),
                second.recipient());

        // Standard tools alone: age, zstd, pg_restore.
        byte[] dump = run(run(Files.readAllBytes(object), "age", "-d", "-i", first.identity().toString()), "zstd", "-d");
        String contents = new String(run(dump, pg.binDir().resolve("pg_restore").toString(), "--list"),
                StandardCharsets.UTF_8);
        assertThat(contents).contains("TABLE DATA public kinds");

        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "age_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(SampleDatabase.contents(pg, "age_copy")).isEqualTo(SampleDatabase.contents(pg, "age_source"));
        pg.dropDatabase("age_copy");

        // A new key replaces the old ones: check warns that the old backup needs keys no longer configured.
        Key next = keygen("next");
        Workspace.Result check = ws.property("stowage.encryption.recipients", next.recipient()).run("check");
        assertThat(check.out()).contains("WARN  backup " + id + " of job postgres is readable only by keys no longer "
                + "configured");
        Key stranger = keygen("stranger");
        Workspace.Result refused = ws.property("stowage.encryption.identity-file", stranger.identity().toString())
                .run("restore", "postgres", "--target-database", "age_refused");
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).contains("none of the identities").doesNotContain("AGE-SECRET-KEY");
        assertThat(pg.databaseExists("age_refused")).isFalse();
        pg.dropDatabase("age_source");
    }
}
