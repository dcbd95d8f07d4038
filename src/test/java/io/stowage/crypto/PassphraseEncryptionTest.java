package io.stowage.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.StowageException;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Passphrase encryption (age scrypt): what Stowage writes, {@code age -d} opens with the passphrase, and what
 * {@code age -p} writes, Stowage opens; a backup and restore with AGE_PASSPHRASE_FILE; the errors an operator meets.
 * The age tool reads a passphrase only from a terminal, so it runs under util-linux {@code script}, which gives it a
 * pseudo-terminal fed from our stdin.
 */
class PassphraseEncryptionTest {
    private static final String PASSPHRASE = "correct horse battery staple";

    @TempDir
    Path dir;

    /**
     * Runs {@code age ARGS} on a pseudo-terminal, typing each of {@code typed} as a line. The command line given to
     * script is constant; the arguments reach it through the environment, never through the shell's parser.
     */
    private static void ageOnTerminal(List<String> typed, String... args) throws Exception {
        StringBuilder command = new StringBuilder("exec age");
        for (int i = 0; i < args.length; i++) {
            command.append(" \"$A").append(i).append('"');
        }
        ProcessBuilder builder = new ProcessBuilder("script", "-q", "-e", "-E", "never", "-c", command.toString(),
                "/dev/null");
        for (int i = 0; i < args.length; i++) {
            builder.environment().put("A" + i, args[i]);
        }
        builder.environment().put("SHELL", "/bin/sh");
        builder.redirectErrorStream(true);
        Process process = builder.start();
        try (OutputStream in = process.getOutputStream()) {
            for (String line : typed) {
                in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("age " + String.join(" ", args) + ": " + output).isZero();
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

    private Path passphraseFile(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** The header lines of an age file: up to and including the "---" MAC line. */
    private static List<String> header(byte[] age) {
        String text = new String(age, 0, Math.min(age.length, 512), StandardCharsets.ISO_8859_1);
        return List.of(text.substring(0, text.indexOf("\n---")).split("\n"));
    }

    @Test
    void should_write_what_age_decrypts_with_the_passphrase_and_read_what_age_encrypts_with_one() throws Exception {
        byte[] data = new byte[300_000];
        new Random(5).nextBytes(data);
        Passphrase passphrase = Passphrase.of(PASSPHRASE);

        ByteArrayOutputStream encrypted = new ByteArrayOutputStream();
        try (OutputStream out = AgeEncryption.encrypt(encrypted, passphrase, 18)) {
            out.write(data);
        }
        List<String> header = header(encrypted.toByteArray());
        assertThat(header).hasSize(3);
        assertThat(header.get(0)).isEqualTo("age-encryption.org/v1");
        assertThat(header.get(1)).matches("-> scrypt [A-Za-z0-9+/]{22} 18");
        Path ours = Files.write(dir.resolve("ours.age"), encrypted.toByteArray());
        Path opened = dir.resolve("ours.bin");
        ageOnTerminal(List.of(PASSPHRASE), "-d", "-o", opened.toString(), ours.toString());
        assertThat(Files.readAllBytes(opened)).isEqualTo(data);

        Path plain = Files.write(dir.resolve("plain.bin"), data);
        Path theirs = dir.resolve("theirs.age");
        ageOnTerminal(List.of(PASSPHRASE, PASSPHRASE), "-p", "-o", theirs.toString(), plain.toString());
        assertThat(header(Files.readAllBytes(theirs)).get(1)).startsWith("-> scrypt ");
        try (var in = AgeEncryption.decrypt(Files.newInputStream(theirs), passphrase)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }

        assertThatThrownBy(() -> AgeEncryption.decrypt(Files.newInputStream(theirs), Passphrase.of("not it")))
                .isInstanceOf(StowageException.class)
                .hasMessage("cannot decrypt this backup: the passphrase in AGE_PASSPHRASE_FILE does not unlock it");
    }

    @Test
    void should_refuse_headers_that_break_the_scrypt_rules() throws Exception {
        Passphrase passphrase = Passphrase.of(PASSPHRASE);
        ByteArrayOutputStream small = new ByteArrayOutputStream();
        try (OutputStream out = AgeEncryption.encrypt(small, passphrase, 10)) {
            out.write("secret".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(AgeEncryption.decrypt(new ByteArrayInputStream(small.toByteArray()), passphrase).readAllBytes())
                .isEqualTo("secret".getBytes(StandardCharsets.UTF_8));

        // A work factor above 2^22 is refused before any work is done (the header's MAC would fail later anyway).
        String text = new String(small.toByteArray(), StandardCharsets.ISO_8859_1);
        byte[] heavy = text.replaceFirst("(-> scrypt \\S+) 10\n", "$1 23\n").getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(heavy), passphrase))
                .isInstanceOf(StowageException.class).hasMessageContaining("work factor 2^23 is above the accepted "
                        + "maximum 2^22");
        byte[] padded = text.replaceFirst("(-> scrypt \\S+) 10\n", "$1 010\n").getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(padded), passphrase))
                .isInstanceOf(StowageException.class).hasMessageContaining("work factor '010' is not valid");

        // An scrypt stanza beside another stanza: refused whichever key is offered.
        Path identity = dir.resolve("key.txt");
        Process keygen = new ProcessBuilder("age-keygen", "-o", identity.toString()).redirectErrorStream(true).start();
        keygen.getInputStream().readAllBytes();
        assertThat(keygen.waitFor()).isZero();
        String recipient = Files.readAllLines(identity).stream().filter(l -> l.startsWith("# public key: "))
                .map(l -> l.substring(14)).findFirst().orElseThrow();
        List<RecipientStanzaWriter> writers = List.of(
                X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(recipient),
                ScryptStanza.writer(passphrase, 10));
        ByteArrayOutputStream mixed = new ByteArrayOutputStream();
        try (OutputStream out = Channels.newOutputStream(new StandardEncryptingChannelFactory()
                .newEncryptingChannel(Channels.newChannel(mixed), writers))) {
            out.write("secret".getBytes(StandardCharsets.UTF_8));
        }
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(mixed.toByteArray()), passphrase))
                .isInstanceOf(StowageException.class).hasMessageContaining("mixes an scrypt stanza with other");
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(mixed.toByteArray()),
                AgeEncryption.identities(identity))).isInstanceOf(StowageException.class)
                .hasMessageContaining("mixes an scrypt stanza with other");

        // A file encrypted to keys, offered the passphrase only, says what it needs.
        ByteArrayOutputStream toKeys = new ByteArrayOutputStream();
        try (OutputStream out = AgeEncryption.encrypt(toKeys, List.of(recipient))) {
            out.write("secret".getBytes(StandardCharsets.UTF_8));
        }
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(toKeys.toByteArray()), passphrase))
                .isInstanceOf(StowageException.class).hasMessage("cannot decrypt this backup: it is not "
                        + "passphrase-protected: it was encrypted to age keys; HINT: set AGE_IDENTITY_FILE to an "
                        + "identity it was encrypted to");

        // A passphrase-protected file offered to identities only says what it needs.
        assertThatThrownBy(() -> AgeEncryption.decrypt(new ByteArrayInputStream(small.toByteArray()),
                AgeEncryption.identities(identity))).isInstanceOf(StowageException.class)
                .hasMessageContaining("it is passphrase-protected; HINT: set AGE_PASSPHRASE_FILE");
    }

    @Test
    void should_read_the_passphrase_file_strictly_and_never_show_it() throws Exception {
        assertThat(Passphrase.read(passphraseFile("p1", "one two \n")).bytes())
                .isEqualTo("one two ".getBytes(StandardCharsets.UTF_8));
        assertThat(Passphrase.read(passphraseFile("p2", "windows\r\n")).bytes())
                .isEqualTo("windows".getBytes(StandardCharsets.UTF_8));
        assertThat(Passphrase.read(passphraseFile("p3", "x-secret-x")).toString()).doesNotContain("x-secret-x");
        assertThat(io.stowage.Secrets.mask("said x-secret-x")).isEqualTo("said ****");
        for (String bad : List.of("", "\n", "two\nlines\n")) {
            Path file = passphraseFile("bad", bad);
            assertThatThrownBy(() -> Passphrase.read(file)).isInstanceOf(StowageException.class)
                    .satisfies(e -> assertThat(((StowageException) e).exitCode()).isEqualTo(2));
        }
        assertThatThrownBy(() -> Passphrase.read(dir.resolve("missing"))).isInstanceOf(StowageException.class)
                .hasMessageContaining("AGE_PASSPHRASE_FILE");
        assertThatThrownBy(() -> AgeKeys.configure(null, null, passphraseFile("p4", "abc").toString(), "9"))
                .isInstanceOf(StowageException.class).hasMessageContaining("from 10 to 22");
    }

    @Test
    void should_read_a_manifest_written_before_passphrases_as_not_passphrase_protected() throws Exception {
        String old = """
                {"formatVersion": 1, "id": "20261121T020000Z-F", "job": "postgres", "engine": "postgresql",
                 "type": "full", "method": "logical", "parent": null, "started": "2026-11-21T02:00:00Z",
                 "finished": "2026-11-21T02:01:00Z", "sizeBytes": 10, "storedBytes": 5,
                 "compression": {"codec": "zstd", "level": 1},
                 "encryption": {"format": "age", "recipients": ["age1example"]},
                 "objects": [{"name": "dump.pgfc.zst.age", "sizeBytes": 10, "storedBytes": 5,
                              "sha256": "%s"}], "tool": null, "server": null, "database": "postgres", "wal": null}
                """.formatted("ab".repeat(32));
        Manifest manifest = ManifestCodec.read(new ByteArrayInputStream(old.getBytes(StandardCharsets.UTF_8)), "old");
        assertThat(manifest.encryption()).isEqualTo(new Manifest.Encryption("age", List.of("age1example"), false));
    }

    @Test
    void should_back_up_and_restore_with_a_passphrase_and_say_what_is_wrong_when_it_does_not_fit() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "pass_source");
        Path passphrase = passphraseFile("passphrase.txt", PASSPHRASE + "\n");
        Workspace ws = new Workspace(dir.resolve("ws").toFile().mkdirs() ? dir.resolve("ws") : dir)
                .job("postgres", "pass_source")
                .property("stowage.encryption.passphrase-file", passphrase.toString());
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        assertThat(backup.out() + backup.err()).doesNotContain(PASSPHRASE);
        String id = backup.lastLine();
        Path backupDir = ws.repository().resolve("postgres").resolve(id);
        Path object = backupDir.resolve("dump.pgfc.zst.age");
        assertThat(object).exists();
        assertThat(header(Files.readAllBytes(object)).get(1)).matches("-> scrypt \\S{22} 18");
        JsonNode encryption = ManifestCodec.JSON.readTree(backupDir.resolve("manifest.json").toFile()).get("encryption");
        assertThat(encryption.toString()).isEqualTo("{\"format\":\"age\",\"recipients\":[],\"passphrase\":true}");
        JsonNode listed = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(listed.get("encrypted").asBoolean()).isTrue();

        // Standard tools alone: age with the passphrase typed in, zstd, pg_restore.
        Path compressed = dir.resolve("dump.pgfc.zst");
        ageOnTerminal(List.of(PASSPHRASE), "-d", "-o", compressed.toString(), object.toString());
        String contents = new String(run(run(Files.readAllBytes(compressed), "zstd", "-d"),
                pg.binDir().resolve("pg_restore").toString(), "--list"), StandardCharsets.UTF_8);
        assertThat(contents).contains("TABLE DATA public kinds");

        Workspace.Result restore = ws.run("restore", "postgres", "--target-database", "pass_copy");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(SampleDatabase.contents(pg, "pass_copy")).isEqualTo(SampleDatabase.contents(pg, "pass_source"));
        pg.dropDatabase("pass_copy");
        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isZero();

        Workspace.Result check = ws.run("check");
        assertThat(check.status()).as(check.toString()).isZero();
        assertThat(check.out()).contains("ok    encryption: passphrase from " + passphrase + " (age scrypt, work factor "
                + "2^18)").doesNotContain("WARN  backup").doesNotContain("WARN  passphrase");

        // A wrong passphrase: one line naming the backup, nothing created, the passphrase shown nowhere.
        Path wrong = passphraseFile("wrong.txt", "not the passphrase\n");
        Workspace.Result refused = ws.property("stowage.encryption.passphrase-file", wrong.toString())
                .run("restore", "postgres", "--target-database", "pass_refused");
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err().strip()).isEqualTo("error: cannot decrypt backup " + id + " of job postgres: the "
                + "passphrase in AGE_PASSPHRASE_FILE does not unlock it");
        assertThat(refused.out() + refused.err()).doesNotContain("not the passphrase").doesNotContain(PASSPHRASE);
        assertThat(pg.databaseExists("pass_refused")).isFalse();

        // Keys instead of the passphrase: restore says what it needs, and check warns about the old backup.
        Path identity = dir.resolve("key.txt");
        Process keygen = new ProcessBuilder("age-keygen", "-o", identity.toString()).redirectErrorStream(true).start();
        String recipient = new String(keygen.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .replaceAll("(?s).*(age1[0-9a-z]+).*", "$1");
        assertThat(keygen.waitFor()).isZero();
        ws.property("stowage.encryption.passphrase-file", "").property("stowage.encryption.recipients", recipient)
                .property("stowage.encryption.identity-file", identity.toString());
        Workspace.Result noPassphrase = ws.run("restore", "postgres", "--target-database", "pass_refused");
        assertThat(noPassphrase.status()).isEqualTo(1);
        assertThat(noPassphrase.err().strip()).startsWith("error: backup " + id + " of job postgres is "
                + "passphrase-protected and no passphrase is configured; HINT: set AGE_PASSPHRASE_FILE");
        assertThat(pg.databaseExists("pass_refused")).isFalse();
        Workspace.Result keysCheck = ws.run("check");
        assertThat(keysCheck.out()).contains("WARN  backup " + id + " of job postgres is passphrase-protected and no "
                + "passphrase is configured");

        // Both at once: bad configuration, exit 2, whatever the command.
        Workspace.Result both = ws.property("stowage.encryption.passphrase-file", passphrase.toString())
                .run("backup", "postgres");
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.err().strip()).isEqualTo("error: invalid configuration: both AGE_RECIPIENTS and "
                + "AGE_PASSPHRASE_FILE are set: a backup is encrypted either to age keys or with a passphrase, not both; HINT: unset one of them");
        pg.dropDatabase("pass_source");
    }
}
