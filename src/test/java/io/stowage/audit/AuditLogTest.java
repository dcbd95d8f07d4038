package io.stowage.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log stays one JSON object per line when a write is cut short: a disk that fills up in the middle of a
 * line (a real, tiny tmpfs) must not glue the next record to the remnant.
 */
class AuditLogTest {
    private static final Instant NOW = Instant.parse("2026-11-21T02:00:00Z");
    private static final String FILE = "audit/20261121.jsonl";

    @TempDir
    Path dir;

    private static AuditLog log(Path root) {
        return new AuditLog(root, List.of(), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static AuditLog.Entry entry(String job) {
        return new AuditLog.Entry("backup", job, "20261121T020000Z-F", "success", Duration.ofSeconds(3), null);
    }

    /** The lines that are JSON objects, and how many lines there are in all. */
    private static List<JsonNode> records(Path file, List<String> lines) throws IOException {
        lines.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
        List<JsonNode> records = new ArrayList<>();
        for (String line : lines) {
            try {
                records.add(ManifestCodec.JSON.readTree(line));
            } catch (IOException notJson) {
                // the remnant of a cut line
            }
        }
        return records;
    }

    @Test
    void should_start_a_new_line_after_a_line_that_was_cut_short() throws Exception {
        Path file = Files.createDirectories(dir.resolve("audit")).resolve("20261121.jsonl");
        Files.writeString(file, "{\"time\":\"2026-11-21T01:00:00Z\",\"command\":\"backup\",\"res");
        log(dir).record(entry("after-the-cut"));
        List<String> lines = new ArrayList<>();
        List<JsonNode> records = records(file, lines);
        assertThat(lines).hasSize(2);
        assertThat(records).hasSize(1);
        assertThat(records.get(0).get("job").asText()).isEqualTo("after-the-cut");
        assertThat(Files.readString(file)).endsWith("}\n");
    }

    @Test
    void should_keep_one_record_per_line_when_the_disk_fills_up_in_the_middle_of_a_line() throws Exception {
        Path mount = Files.createDirectories(dir.resolve("tiny"));
        // Four pages: the audit file's first page, and three more that a filler takes.
        run("mount", "-t", "tmpfs", "-o", "size=16k,mode=0700", "tmpfs", mount.toString());
        try {
            Path file = Files.createDirectories(mount.resolve("audit")).resolve("20261121.jsonl");
            // A first page all but 40 bytes full of earlier records.
            String earlier = "{\"time\":\"2026-11-21T01:00:00Z\",\"command\":\"backup\",\"job\":\"earlier\",\"pad\":\"";
            Files.writeString(file, earlier + "x".repeat(4096 - 40 - earlier.length() - 3) + "\"}\n");
            fill(mount.resolve("filler"));

            log(mount).record(entry("when-full")); // must not throw: the audit log never fails an operation
            assertThat(Files.size(file)).as("a partial line was written").isGreaterThan(4096 - 40);

            Files.delete(mount.resolve("filler"));
            log(mount).record(entry("after-the-full-disk"));
            List<String> lines = new ArrayList<>();
            List<JsonNode> records = records(file, lines);
            assertThat(records).extracting(r -> r.get("job").asText()).containsExactly("earlier",
                    "after-the-full-disk");
            assertThat(lines).as(String.join("\n", lines)).hasSize(3);
            assertThat(lines.get(1)).startsWith("{\"time\":\"" + NOW).doesNotContain("after-the-full-disk");
        } finally {
            run("umount", mount.toString());
        }
    }

    private static void fill(Path filler) throws IOException {
        byte[] page = new byte[4096];
        try (var out = Files.newOutputStream(filler)) {
            for (int i = 0; i < 16; i++) {
                out.write(page);
                out.flush();
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + output + " (needs root)").isZero();
    }
}
