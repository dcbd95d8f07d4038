package io.stowage.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.StowageProcess;
import io.stowage.testing.Workspace;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract every engine keeps, run for each engine and method against a real server: a backup lists, verifies,
 * restores and compares equal to its source; wrong credentials and an unreachable server fail in one line and list
 * nothing; a backup type the engine does not make is refused as bad usage; a backup killed mid-write is never listed.
 * Each engine's subclass says how to reach its server and how to compare.
 */
public abstract class EngineContractTest {
    protected static final String JOB = "contract";

    @TempDir
    protected Path dir;

    /** A workspace with the job {@value #JOB} on the engine's real server, holding the sample data. */
    protected abstract Workspace workspace(Path dir) throws Exception;

    /** The same job with a wrong password. */
    protected abstract Workspace withWrongPassword(Path dir) throws Exception;

    /** Words the one-line error for a wrong password contains (the server's own, or the hint). */
    protected abstract List<String> wrongPasswordWords();

    /** The same job at {@code port} of 127.0.0.1, where nothing listens. */
    protected abstract Workspace unreachable(Path dir, int port) throws Exception;

    /** Makes what the backup needs to be restorable available (ships a log archive); nothing by default. */
    protected void afterBackup(Workspace ws) throws Exception {
    }

    /** The restore command's target arguments, into {@code target}. */
    protected abstract List<String> restoreTarget(Path target) throws Exception;

    /** Fails unless what was restored into {@code target} equals the source. Stops anything it started. */
    protected abstract void assertRestoredEqualsSource(Path target) throws Exception;

    /** Restore arguments for a target this engine's method does not offer, and the word its refusal names. */
    protected abstract List<String> unsupportedTarget(Path dir);

    /** A backup type this engine's method does not make. */
    protected String unsupportedType() {
        return "incr";
    }

    @Test
    void should_back_up_list_verify_restore_and_compare() throws Exception {
        Workspace ws = workspace(dir);
        Workspace.Result backup = ws.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        afterBackup(ws);

        JsonNode listed = list(ws);
        assertThat(listed).hasSize(1);
        JsonNode entry = listed.get(0);
        assertThat(entry.get("id").asText()).isEqualTo(id);
        assertThat(entry.get("job").asText()).isEqualTo(JOB);
        assertThat(entry.get("repositories").get(0).asText()).isEqualTo("local");
        assertThat(entry.get("storedBytes").asLong()).isPositive();

        Workspace.Result verify = ws.run("verify", JOB, "--backup", id);
        assertThat(verify.status()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("verified backup " + id).contains("every object's SHA-256 matches");
        assertThat(list(ws).get(0).get("verified").isNull()).isFalse();

        Path target = dir.resolve("restored");
        List<String> restore = new ArrayList<>(List.of("restore", JOB, "--backup", id));
        restore.addAll(restoreTarget(target));
        Workspace.Result restored = ws.run(restore.toArray(String[]::new));
        assertThat(restored.status()).as(restored.toString()).isZero();
        assertRestoredEqualsSource(target);
    }

    /** A manifest of another engine under the job's name (the job's engine changed, or a crafted one) is refused. */
    @Test
    void should_refuse_to_restore_or_verify_a_backup_another_engine_made() throws Exception {
        Workspace ws = workspace(dir);
        Workspace.Result backup = ws.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.lastLine();
        Path manifest = ws.repository().resolve(JOB).resolve(id).resolve("manifest.json");
        com.fasterxml.jackson.databind.node.ObjectNode tree =
                (com.fasterxml.jackson.databind.node.ObjectNode) ManifestCodec.JSON.readTree(manifest.toFile());
        tree.put("engine", "other").put("method", "other");
        Files.write(manifest, ManifestCodec.JSON.writeValueAsBytes(tree));

        List<String> restore = new ArrayList<>(List.of("restore", JOB, "--backup", id));
        restore.addAll(restoreTarget(dir.resolve("restored-other")));
        for (Workspace.Result refused : List.of(ws.run(restore.toArray(String[]::new)), ws.run("verify", JOB))) {
            assertThat(refused.status()).as(refused.toString()).isEqualTo(1);
            assertThat(refused.err()).as(refused.toString()).contains("error: backup " + id + " of job '" + JOB
                    + "' was made by other other and the job is ");
        }
        assertThat(dir.resolve("restored-other")).doesNotExist();
    }

    @Test
    void should_refuse_wrong_credentials_in_one_line_and_list_nothing() throws Exception {
        Workspace ws = withWrongPassword(dir);
        Workspace.Result backup = ws.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isEqualTo(1);
        assertThat(backup.err().strip().lines().filter(l -> l.startsWith("error: ")).count()).as(backup.toString())
                .isEqualTo(1);
        assertThat(backup.err()).as(backup.toString()).containsAnyOf(wrongPasswordWords().toArray(String[]::new));
        assertThat(list(ws)).isEmpty();
    }

    @Test
    void should_name_an_unreachable_server_and_list_nothing() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Workspace ws = unreachable(dir, port);
        Workspace.Result backup = ws.run("backup", JOB);
        assertThat(backup.status()).as(backup.toString()).isEqualTo(1);
        assertThat(backup.err()).as(backup.toString()).contains("error: ").contains(Integer.toString(port));
        assertThat(list(ws)).isEmpty();
    }

    @Test
    void should_refuse_a_backup_type_the_engine_does_not_make_as_bad_usage() throws Exception {
        Workspace ws = workspace(dir);
        Workspace.Result backup = ws.run("backup", JOB, "--type", unsupportedType());
        assertThat(backup.status()).as(backup.toString()).isEqualTo(2);
        assertThat(backup.err()).contains("supports [full] backups, not '" + unsupportedType() + "'");
        assertThat(list(ws)).isEmpty();
    }

    @Test
    void should_refuse_a_restore_target_the_engine_does_not_offer_before_reading_anything() throws Exception {
        Workspace ws = workspace(dir);
        List<String> restore = new ArrayList<>(List.of("restore", JOB));
        restore.addAll(unsupportedTarget(dir));
        Workspace.Result refused = ws.run(restore.toArray(String[]::new));
        assertThat(refused.status()).as(refused.toString()).isEqualTo(2);
        assertThat(refused.err()).as(refused.toString()).startsWith("error: job '" + JOB + "' (")
                .contains(") cannot restore ").contains("; it restores ");
    }

    @Test
    void should_never_list_a_backup_killed_mid_write() throws Exception {
        Workspace ws = workspace(dir);
        Path config = ws.writeConfiguration();
        Process process = StowageProcess.builder(ws.dir(), Map.of(), "--config", config.toString(), "backup", JOB)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.currentTimeMillis() + 120_000;
        boolean writing = false;
        while (process.isAlive() && System.currentTimeMillis() < deadline && !(writing = writing(ws))) {
            Thread.sleep(5);
        }
        process.destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(writing).as("the backup was caught writing its data (give the source more data if not)").isTrue();
        assertThat(list(ws)).isEmpty();
        // The next backup removes what the killed one left, and completes.
        Workspace.Result next = ws.run("backup", JOB);
        assertThat(next.status()).as(next.toString()).isZero();
        assertThat(list(ws)).hasSize(1);
        try (Stream<Path> paths = Files.walk(ws.repository().resolve(JOB))) {
            assertThat(paths.filter(p -> p.getFileName().toString().contains(".tmp-")).toList()).isEmpty();
        }
    }

    /** Whether a data object of the job is being written (its temporary file exists). */
    private static boolean writing(Workspace ws) {
        Path job = ws.repository().resolve(JOB);
        if (!Files.exists(job)) {
            return false;
        }
        try (Stream<Path> paths = Files.walk(job)) {
            return paths.anyMatch(p -> p.getFileName().toString().contains(".tmp-")
                    && !p.toString().contains("/wal/"));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return false; // a file vanished while walking: look again
        }
    }

    protected static JsonNode list(Workspace ws) throws Exception {
        Workspace.Result list = ws.run("list", JOB, "--json");
        assertThat(list.status()).as(list.toString()).isZero();
        return ManifestCodec.JSON.readTree(list.out());
    }
}
