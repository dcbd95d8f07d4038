package io.stowage.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.Workspace;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** application.properties is read as the UTF-8 text an operator's editor writes, or refused where it is not. */
class ConfigurationFileTest {
    @TempDir
    Path dir;

    @Test
    void should_keep_backups_in_a_local_repository_whose_path_has_letters_beyond_ascii() throws Exception {
        Path repository = dir.resolve("sauvegardes-équipe");
        Workspace ws = new Workspace(dir).property("stowage.repository.local.path", repository.toString());

        Workspace.Result backup = ws.run("backup", "postgres");

        assertThat(backup.status()).as(backup.toString()).isZero();
        assertThat(repository.resolve("postgres").resolve(backup.lastLine()).resolve("manifest.json")).exists();
        try (var entries = Files.list(dir)) {
            assertThat(entries.map(p -> p.getFileName().toString())).as("no repository under a garbled name")
                    .allMatch(name -> !name.startsWith("sauvegardes-") || name.equals("sauvegardes-équipe"));
        }
    }

    @Test
    void should_refuse_a_configuration_file_that_is_not_utf8_naming_the_line() throws Exception {
        Workspace ws = new Workspace(dir);
        Path config = ws.writeConfiguration();
        // An editor set to Latin-1: é is the single byte 0xE9, which UTF-8 cannot read.
        byte[] latin1 = ("stowage.alert.slack.channel = #sauvegardes-\u00e9quipe\n").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(config, latin1, java.nio.file.StandardOpenOption.APPEND);
        int line = (int) Files.readAllLines(config, StandardCharsets.ISO_8859_1).size();

        Workspace.Result check = run(config);

        assertThat(check.status()).as(check.toString()).isEqualTo(2);
        assertThat(check.err()).as(check.toString()).isEqualTo("error: invalid configuration: " + config + ", line "
                + line + ": not UTF-8 text; HINT: save the file as UTF-8\n");
    }

    @Test
    void should_refuse_a_byte_order_mark_that_would_hide_in_the_first_key() throws Exception {
        Workspace ws = new Workspace(dir);
        Path config = ws.writeConfiguration();
        Files.writeString(config, "\uFEFF" + Files.readString(config));

        Workspace.Result check = run(config);

        assertThat(check.status()).as(check.toString()).isEqualTo(2);
        assertThat(check.err()).as(check.toString()).isEqualTo("error: invalid configuration: " + config + ", line 1: "
                + "the file starts with a byte order mark, which becomes part of the first key; HINT: save the file "
                + "as UTF-8 without a byte order mark\n");
    }

    @Test
    void should_name_the_line_of_a_mistake_in_a_file_with_windows_line_ends() throws Exception {
        Workspace ws = new Workspace(dir).property("stowage.retry.atempts", "5");
        Path config = ws.writeConfiguration();
        Files.writeString(config, Files.readString(config).replace("\n", "\r\n"));

        Workspace.Result check = run(config);

        assertThat(check.status()).as(check.toString()).isEqualTo(2);
        assertThat(check.err()).as(check.toString()).isEqualTo("error: invalid configuration: unknown key "
                + "'stowage.retry.atempts' (" + config + ", line " + ws.lastPropertyLine() + "); HINT: did you mean "
                + "'stowage.retry.attempts'?\n");
    }

    /** {@code check} without rewriting the configuration the test wrote. */
    private static Workspace.Result run(Path config) {
        var out = new java.io.StringWriter();
        var err = new java.io.StringWriter();
        int status = io.stowage.Stowage.execute(new String[] {"--config", config.toString(), "check"},
                new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true));
        return new Workspace.Result(status, out.toString(), err.toString());
    }
}
