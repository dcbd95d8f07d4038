package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.pipeline.Codec;
import io.stowage.runtime.StowageService;
import io.stowage.testing.CommandProcess;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.WalTesting;
import io.stowage.testing.Workspace;
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A physical restore can be neither subverted nor mistaken for complete: a crafted base backup (links out of the
 * target, entries through links, absolute and {@code ..} names, hard links, devices, something that is no data
 * directory) is refused entry by entry with nothing written outside the target; and a restore killed or stopped
 * midway leaves a directory that is marked as incomplete, that PostgreSQL will not start, and that a later restore
 * replaces only when told to ({@code --force}).
 *
 * <p>One real physical backup of an archiving cluster is taken once; crafted backups are stored beside it in the
 * same repository (their own manifest, with the crafted object's SHA-256), as a tampered repository would hold them.
 * "Midway" is made certain with a slow repository: the backup's object is replaced by a named pipe that the test
 * feeds, all of it for the restore's checksum pass, then only half for the pass that lays it out.
 */
class PhysicalRestoreSafetyTest {
    private static ThrowawayPostgres cluster;
    private static Path spool;
    private static Workspace ws;
    private static String backupId;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    @BeforeAll
    static void takeOnePhysicalBackup() throws Exception {
        spool = ThrowawayPostgres.serverWritableDirectory(Files.createTempDirectory(Path.of("/tmp"), "stowage-spool-"));
        cluster = WalTesting.archivingCluster(spool);
        cluster.execute("postgres", "CREATE TABLE t (id int PRIMARY KEY, note text)",
                "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g");
        ws = new Workspace(shared).physicalJob("postgres", cluster, spool)
                .property("camel.management.port", Integer.toString(ThrowawayPostgres.freePort()));
        try (StowageService service = ws.service()) {
            WalTesting.backupNow(service, "postgres");
            JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
            backupId = entry.get("id").asText();
            String stop = entry.get("walStop").asText();
            WalTesting.switchWal(cluster);
            long deadline = System.currentTimeMillis() + 60_000;
            while (!WalTesting.walKeys(ws, "postgres").contains(stop + ".zst") && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertThat(WalTesting.walKeys(ws, "postgres")).contains(stop + ".zst");
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.stop();
        }
    }

    /** Entries of a crafted tar; {@code outside} is a directory beside the restore target. */
    interface Entries {
        void write(TarArchiveOutputStream tar, Path outside) throws IOException;
    }

    static Stream<Arguments> hostileArchives() {
        return Stream.of(
                Arguments.of("a link out, then a file through it", (Entries) (tar, outside) -> {
                    symlink(tar, "evil", outside.toString());
                    file(tar, "evil/file", "written outside");
                }, "'evil'"),
                Arguments.of("a relative link that climbs out", (Entries) (tar, outside) -> {
                    symlink(tar, "up", "../" + outside.getFileName());
                    file(tar, "up/file", "written outside");
                }, "'up'"),
                Arguments.of("a link climbing out of a subdirectory", (Entries) (tar, outside) -> {
                    directory(tar, "base");
                    symlink(tar, "base/up", "../../" + outside.getFileName() + "/file");
                }, "'base/up'"),
                Arguments.of("a file through a link that stays inside", (Entries) (tar, outside) -> {
                    directory(tar, "base");
                    symlink(tar, "inner", "base");
                    file(tar, "inner/file", "through a link");
                }, "'inner/file'"),
                Arguments.of("a file through a link to the directory itself", (Entries) (tar, outside) -> {
                    symlink(tar, "here", ".");
                    file(tar, "here/file", "through a link");
                }, "'here/file'"),
                Arguments.of("a hard link to a file outside", (Entries) (tar, outside) -> {
                    TarArchiveEntry link = new TarArchiveEntry("hard", TarConstants.LF_LINK);
                    link.setLinkName(outside.resolve("victim").toString());
                    tar.putArchiveEntry(link);
                    tar.closeArchiveEntry();
                }, "'hard'"),
                Arguments.of("an absolute name", (Entries) (tar, outside) -> {
                    TarArchiveEntry entry = new TarArchiveEntry(outside.resolve("absolute").toString(), true);
                    byte[] bytes = "absolute".getBytes(StandardCharsets.UTF_8);
                    entry.setSize(bytes.length);
                    tar.putArchiveEntry(entry);
                    tar.write(bytes);
                    tar.closeArchiveEntry();
                }, "absolute"),
                Arguments.of("a name with ..", (Entries) (tar, outside) ->
                        file(tar, "base/../../" + outside.getFileName() + "/dotdot", "climbed"), "dotdot"),
                Arguments.of("a named pipe", (Entries) (tar, outside) -> special(tar, "pipe", TarConstants.LF_FIFO),
                        "'pipe'"),
                Arguments.of("a character device", (Entries) (tar, outside) -> special(tar, "tty",
                        TarConstants.LF_CHR), "'tty'"),
                Arguments.of("no data directory", (Entries) (tar, outside) -> file(tar, "hello.txt", "hello"),
                        "not a PostgreSQL data directory"),
                Arguments.of("a data directory of another major version", (Entries) (tar, outside) -> {
                    file(tar, "backup_label", "START WAL LOCATION: 0/2000028\n");
                    file(tar, "PG_VERSION", "9.6\n");
                    directory(tar, "base");
                    directory(tar, "global");
                    file(tar, "global/pg_control", "not really");
                }, "PostgreSQL 9.6"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileArchives")
    void should_refuse_a_crafted_base_backup_and_write_nothing_outside_the_target(String what, Entries entries,
                                                                                    String named) throws Exception {
        Path outside = Files.createDirectory(dir.resolve("elsewhere"));
        Files.writeString(outside.resolve("victim"), "untouched");
        String id = craftedBackup(tar -> entries.write(tar, outside));
        Path target = dir.resolve("target");

        Workspace.Result restore = ws.run("restore", "postgres", "--backup", id, "--target-datadir", target.toString());

        try (Stream<Path> left = Files.list(outside)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("written outside the target")
                    .containsExactly("victim");
        }
        assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("untouched");
        assertThat(Files.getAttribute(outside.resolve("victim"), "unix:nlink")).isEqualTo(1);
        assertThat(restore.status()).as(restore.toString()).isEqualTo(1);
        assertThat(restore.err().lines().toList()).as(restore.toString()).hasSize(1);
        assertThat(restore.err()).startsWith("error: ").contains(named);
        assertThat(target.resolve("PG_VERSION")).as("never startable").doesNotExist();
    }

    @Test
    void should_mark_a_restore_killed_midway_so_that_nothing_starts_it_and_replace_it_only_with_force()
            throws Exception {
        Path target = dir.resolve("killed");
        try (SlowObject slow = SlowObject.install(backupId, target)) {
            CommandProcess restore = CommandProcess.start(ws, "restore", "postgres", "--backup", backupId,
                    "--target-datadir", target.toString());
            try {
                // The first entries are laid out, and the rest is not there yet: killed in the middle.
                restore.await(() -> slow.halfFed() && Files.exists(target.resolve("backup_label")), "the layout begun");

                // The same restore again, at once, into the same directory (from a copy of the backup: the slow
                // one has but one reader): refused, with --force too, and what the first has laid out is untouched.
                String copy = storedBackup(slow.bytes);
                Workspace.Result meanwhile = ws.run("restore", "postgres", "--backup", copy, "--target-datadir",
                        target.toString());
                assertThat(meanwhile.status()).as(meanwhile.toString()).isEqualTo(1);
                assertThat(meanwhile.err()).contains("holds an incomplete restore, interrupted or still running");
                Workspace.Result forcedMeanwhile = ws.run("restore", "postgres", "--backup", copy,
                        "--target-datadir", target.toString(), "--force");
                assertThat(forcedMeanwhile.status()).as(forcedMeanwhile.toString()).isEqualTo(1);
                assertThat(forcedMeanwhile.err()).startsWith("error: another restore is writing into " + target);
                assertThat(target.resolve("backup_label")).exists();

                restore.signal("KILL");
                assertThat(restore.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                restore.kill();
            }
        }
        assertThat(target.resolve("global/pg_control")).as("killed before the end").doesNotExist();
        Path marker = target.resolve("STOWAGE_RESTORE_INCOMPLETE");
        assertThat(marker).exists();
        assertThat(Files.readString(marker)).contains(backupId).contains("incomplete");
        assertThat(target.resolve("PG_VERSION")).doesNotExist();
        assertThatThrownBy(() -> ThrowawayPostgres.startExisting(target).stop())
                .hasMessageContaining("is not a database cluster directory");

        Workspace.Result again = ws.run("restore", "postgres", "--backup", backupId, "--target-datadir",
                target.toString());
        assertThat(again.status()).as(again.toString()).isEqualTo(1);
        assertThat(again.err()).startsWith("error: target directory " + target + " holds an incomplete restore")
                .contains("--force");

        Workspace.Result forced = ws.run("restore", "postgres", "--backup", backupId, "--target-datadir",
                target.toString(), "--force");
        assertThat(forced.status()).as(forced.toString()).isZero();
        assertThat(marker).doesNotExist();
        ThrowawayPostgres restored = ThrowawayPostgres.startExisting(target);
        try {
            restored.awaitRecoveryEnd();
            assertThat(restored.number("postgres", "SELECT count(*) FROM t")).isEqualTo(1000);
        } finally {
            restored.stop();
        }

        // --force replaces what an interrupted restore left, never a directory that is not one.
        Path other = Files.createDirectory(dir.resolve("other"));
        Files.writeString(other.resolve("keep.txt"), "someone's data");
        Workspace.Result refused = ws.run("restore", "postgres", "--backup", backupId, "--target-datadir",
                other.toString(), "--force");
        assertThat(refused.status()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.err()).startsWith("error: target directory " + other + " is not empty");
        assertThat(Files.readString(other.resolve("keep.txt"))).isEqualTo("someone's data");
    }

    @Test
    void should_stop_a_physical_restore_within_seconds_on_sigterm_and_leave_it_marked() throws Exception {
        Path target = dir.resolve("stopped");
        CommandProcess.Finished finished;
        try (SlowObject slow = SlowObject.install(backupId, target)) {
            CommandProcess restore = CommandProcess.start(ws, "restore", "postgres", "--backup", backupId,
                    "--target-datadir", target.toString());
            try {
                restore.await(() -> slow.halfFed() && Files.exists(target.resolve("backup_label")), "the layout begun");
                restore.signal("TERM");
                finished = restore.awaitExit(15);
                assertThat(finished).as("stopped within 15 s: " + restore.output()).isNotNull();
            } finally {
                restore.kill();
            }
        }
        assertThat(finished.status()).as(finished.toString()).isEqualTo(1);
        assertThat(finished.errLines()).as(finished.toString()).hasSize(1);
        assertThat(finished.err()).startsWith("error: ").contains("interrupted by SIGTERM")
                .contains("STOWAGE_RESTORE_INCOMPLETE");
        assertThat(target.resolve("STOWAGE_RESTORE_INCOMPLETE")).exists();
        assertThat(target.resolve("PG_VERSION")).doesNotExist();
        String audit;
        try (Stream<Path> files = Files.list(ws.repository().resolve("audit"))) {
            audit = Files.readString(files.sorted().reduce((a, b) -> b).orElseThrow());
        }
        String last = audit.lines().filter(l -> l.contains("\"command\":\"restore\"")).reduce((a, b) -> b).orElseThrow();
        assertThat(last).contains("\"result\":\"failure\"").contains("interrupted by SIGTERM");
    }

    /**
     * A slow repository: the backup's object replaced by a named pipe, fed by a thread: the whole object for the
     * restore's checksum pass, then (once the restore has marked {@code target}, which it does after that pass: a
     * pipe cannot tell one reader's passes apart) half of it for the pass that lays it out, and no more until
     * closed. Closing puts the object back.
     */
    static final class SlowObject implements AutoCloseable {
        private final Path object;
        private final byte[] bytes;
        private final CountDownLatch half = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);
        private final Path marker;
        private final Thread feeder;

        private SlowObject(Path object, byte[] bytes, Path target) {
            this.object = object;
            this.bytes = bytes;
            this.marker = target.resolve("STOWAGE_RESTORE_INCOMPLETE");
            this.feeder = new Thread(this::feed, "slow-object");
            feeder.setDaemon(true);
        }

        static SlowObject install(String id, Path target) throws Exception {
            Path object = ws.repository().resolve("postgres").resolve(id).resolve("base.tar.zst");
            byte[] bytes = Files.readAllBytes(object);
            Files.delete(object);
            Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", object.toString()).inheritIO().start();
            assertThat(mkfifo.waitFor()).isZero();
            SlowObject slow = new SlowObject(object, bytes, target);
            slow.feeder.start();
            return slow;
        }

        private void feed() {
            try {
                try (OutputStream out = new FileOutputStream(object.toFile())) {
                    out.write(bytes);
                }
                while (!Files.exists(marker)) {
                    Thread.sleep(10);
                }
                try (OutputStream out = new FileOutputStream(object.toFile())) {
                    out.write(bytes, 0, bytes.length / 2);
                    out.flush();
                    half.countDown();
                    release.await();
                }
            } catch (IOException | InterruptedException readerGone) {
                // the restore was killed or stopped
            }
        }

        boolean halfFed() {
            return half.getCount() == 0;
        }

        @Override
        public void close() throws Exception {
            release.countDown();
            feeder.interrupt();
            feeder.join(1_000);
            if (feeder.isAlive()) {
                // Still opening the pipe, which no reader came to: a reader of its own (that gives up in time, in
                // case the feeder was just leaving) lets it through.
                Process drain = new ProcessBuilder("timeout", "10", "cat", object.toString())
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                drain.waitFor(15, TimeUnit.SECONDS);
                feeder.join(5_000);
            }
            assertThat(feeder.isAlive()).as("the slow object's feeder ended").isFalse();
            Files.deleteIfExists(object);
            Files.write(object, bytes);
        }
    }

    /** Stores a backup beside the real one whose base backup object is {@code object}, as it is. */
    private static String storedBackup(byte[] object) throws Exception {
        Path original = ws.repository().resolve("postgres").resolve(backupId);
        String id = nextCraftedId();
        Path copy = Files.createDirectories(ws.repository().resolve("postgres").resolve(id));
        Files.write(copy.resolve("base.tar.zst"), object);
        ObjectNode manifest = (ObjectNode) ManifestCodec.JSON.readTree(original.resolve("manifest.json").toFile());
        manifest.put("id", id);
        Files.write(copy.resolve("manifest.json"), ManifestCodec.JSON.writeValueAsBytes(manifest));
        return id;
    }

    /** Writes a tar's entries. */
    interface TarWriter {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    /** Stores a backup beside the real one whose base backup is the tar {@code entries} write. */
    private static String craftedBackup(TarWriter entries) throws Exception {
        Path original = ws.repository().resolve("postgres").resolve(backupId);
        String id = nextCraftedId();
        Path crafted = Files.createDirectories(ws.repository().resolve("postgres").resolve(id));
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entries.write(out);
        }
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (OutputStream zstd = Codec.of("zstd").compress(compressed, 3, 0)) {
            zstd.write(tar.toByteArray());
        }
        byte[] object = compressed.toByteArray();
        Files.write(crafted.resolve("base.tar.zst"), object);
        ObjectNode manifest = (ObjectNode) ManifestCodec.JSON.readTree(original.resolve("manifest.json").toFile());
        manifest.put("id", id);
        ObjectNode stored = (ObjectNode) manifest.get("objects").get(0);
        stored.put("sizeBytes", tar.size());
        stored.put("storedBytes", object.length);
        stored.put("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(object)));
        Files.write(crafted.resolve("manifest.json"), ManifestCodec.JSON.writeValueAsBytes(manifest));
        return id;
    }

    private static int crafted;

    private static synchronized String nextCraftedId() {
        crafted++;
        return String.format("20200101T%06dZ-F", crafted);
    }

    private static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(bytes.length);
        tar.putArchiveEntry(entry);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }

    private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
        tar.putArchiveEntry(new TarArchiveEntry(name + "/"));
        tar.closeArchiveEntry();
    }

    private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry link = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        link.setLinkName(target);
        tar.putArchiveEntry(link);
        tar.closeArchiveEntry();
    }

    private static void special(TarArchiveOutputStream tar, String name, byte type) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, type);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }
}
