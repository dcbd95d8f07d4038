package io.stowage.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.Stowage;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line itself: help for every command, usage errors in the contract's form, output safe to print. */
class CommandLineTest {
    @TempDir
    Path dir;

    private static Workspace.Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Stowage.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Workspace.Result(status, out.toString(), err.toString());
    }

    @Test
    void should_print_usage_and_exit_0_for_help_on_every_command() {
        for (String command : List.of("run", "check", "backup", "list", "restore", "verify", "sync", "expire", "pin",
                "unpin")) {
            Workspace.Result help = run(command, "--help");
            assertThat(help.status()).as(command + ": " + help).isZero();
            assertThat(help.out()).as(command).startsWith("Usage: stowage " + command);
            assertThat(help.err()).as(command).isEmpty();
        }
        Workspace.Result restore = run("restore", "-h");
        assertThat(restore.status()).as(restore.toString()).isZero();
        assertThat(restore.out()).contains("--target-database=NAME").contains("--backup=ID");
    }

    @Test
    void should_report_a_missing_or_unknown_command_as_one_lowercase_error_line_with_status_2() {
        Workspace.Result none = run();
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.out()).isEmpty();
        assertThat(none.err().lines().toList()).containsExactly("error: a command is required: run, check, backup, "
                + "list, restore, verify, sync, expire, pin, unpin (see 'stowage --help')");

        Workspace.Result unknown = run("nosuchcommand");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err().lines().toList()).containsExactly("error: unknown command 'nosuchcommand'; HINT: "
                + "the commands are run, check, backup, list, restore, verify, sync, expire, pin, unpin (see "
                + "'stowage --help')");

        Workspace.Result option = run("list", "--no-such-option");
        assertThat(option.status()).isEqualTo(2);
        assertThat(option.err().lines().toList()).containsExactly("error: unknown option: '--no-such-option' (see "
                + "'stowage list --help')");
    }

    @Test
    void should_never_print_raw_control_characters_from_input() throws Exception {
        SampleDatabase.createManyTypes(ThrowawayPostgres.get(), "control_source");
        Workspace ws = new Workspace(dir).job("postgres", "control_source");
        assertThat(ws.run("backup", "postgres").status()).isZero();
        // A backup id that would clear the screen, turn it red and forge a second line.
        Workspace.Result result = ws.run("restore", "postgres", "--backup", "\u001b[2J\u001b[31mX\r\nerror: forged\u009b",
                "--target-database", "control_target");
        assertThat(result.status()).as(result.toString()).isEqualTo(2);
        assertThat(result.err().lines().toList()).as(result.toString()).hasSize(1);
        assertThat(result.err()).startsWith("error: ").contains("\\x1b[2J\\x1b[31mX").contains("\\x9b")
                .doesNotContain("\u001b").doesNotContain("\r").doesNotContain("\u009b");
        // Usage errors echo arguments too.
        Workspace.Result option = run("list", "--\u001b[31mred");
        assertThat(option.err()).doesNotContain("\u001b").contains("--\\x1b[31mred");
    }

    @Test
    void should_never_print_a_character_that_reorders_what_follows_it() throws Exception {
        // U+202E turns the rest of the line around on a terminal: "--\u202Egpj.exe" would read "--exe.jpg".
        Workspace.Result option = run("list", "--\u202egpj.exe", "\u2066x\u2069\u200f");
        assertThat(option.status()).isEqualTo(2);
        assertThat(option.err()).contains("--\\u202egpj.exe").doesNotContain("\u202e").doesNotContain("\u2066")
                .doesNotContain("\u2069").doesNotContain("\u200f");
    }
}
