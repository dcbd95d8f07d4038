package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/stowage-archive-wal, PostgreSQL's archive_command: durable, idempotent, and never overwriting. */
class ArchiveWalScriptTest {
    @TempDir
    Path dir;

    private int run(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of("bin/stowage-archive-wal").toAbsolutePath().toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        return process.waitFor();
    }

    @Test
    void should_spool_a_segment_and_accept_it_again_only_if_identical() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Path segment = Files.write(dir.resolve("000000010000000000000001"), new byte[16384]);
        assertThat(run(spool.toString(), segment.toString(), "000000010000000000000001")).isZero();
        assertThat(spool.resolve("000000010000000000000001")).hasSameBinaryContentAs(segment);
        try (var files = Files.list(spool)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("000000010000000000000001");
        }
        // PostgreSQL may archive a segment twice after a crash: the same bytes are accepted.
        assertThat(run(spool.toString(), segment.toString(), "000000010000000000000001")).isZero();
        // Different bytes under the same name are refused, and the spooled file is kept as it was.
        Path other = Files.writeString(dir.resolve("other"), "different", StandardCharsets.UTF_8);
        assertThat(run(spool.toString(), other.toString(), "000000010000000000000001")).isEqualTo(1);
        assertThat(spool.resolve("000000010000000000000001")).hasSameBinaryContentAs(segment);
    }

    @Test
    void should_fail_when_the_spool_cannot_be_written_so_postgresql_keeps_the_segment() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("file"), "x");
        Path segment = Files.write(dir.resolve("000000010000000000000002"), new byte[100]);
        assertThat(run(notADirectory.toString(), segment.toString(), "000000010000000000000002")).isNotZero();
        assertThat(run(dir.resolve("missing").toString(), segment.toString(), "000000010000000000000002")).isNotZero();
        assertThat(segment).exists();
    }

    @Test
    void should_refuse_a_name_that_leaves_the_spool() throws Exception {
        Path segment = Files.write(dir.resolve("x"), new byte[1]);
        assertThat(run(dir.toString(), segment.toString(), "../escape")).isEqualTo(2);
        assertThat(run(dir.toString(), segment.toString())).isEqualTo(2);
    }
}
