package io.stowage.restore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore from S3 sweeps the download directories that killed restores left in the local repository: a link planted
 * under such a name is removed itself, and what it points to is never touched.
 */
class ScratchSweepTest {
    @TempDir
    Path dir;

    @Test
    void should_sweep_old_download_directories_without_deleting_through_a_link() throws Exception {
        Path root = Files.createDirectories(dir.resolve("repository"));
        Path victim = Files.createDirectories(dir.resolve("victim"));
        Files.writeString(victim.resolve("precious"), "keep me");
        Path planted = Files.createSymbolicLink(root.resolve(".restore-planted"), victim);
        Path leftover = Files.createDirectories(root.resolve(".restore-leftover"));
        Files.writeString(leftover.resolve("base.tar.zst"), "partial download");
        // Two days old, the link's own time (touch -h) and its target's too: a killed restore's leftovers.
        for (Path old : List.of(planted, leftover, victim)) {
            Process touch = new ProcessBuilder("touch", "-h", "-d", "2 days ago", old.toString()).inheritIO().start();
            assertThat(touch.waitFor()).isZero();
        }

        Path scratch = StoredObjects.createScratch(root);

        assertThat(scratch).isDirectory();
        assertThat(Files.exists(planted, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(leftover).doesNotExist();
        assertThat(victim.resolve("precious")).hasContent("keep me");
    }
}
