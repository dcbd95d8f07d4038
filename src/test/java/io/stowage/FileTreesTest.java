package io.stowage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deleting a tree never deletes through a symbolic link, at its top or anywhere inside it. */
class FileTreesTest {
    @TempDir
    Path dir;

    @Test
    void should_remove_links_and_never_what_they_point_to() throws Exception {
        Path victim = Files.createDirectories(dir.resolve("victim"));
        Files.writeString(victim.resolve("precious"), "keep me");
        Path tree = Files.createDirectories(dir.resolve("tree/sub"));
        Files.writeString(tree.resolve("file"), "scratch");
        Files.createSymbolicLink(tree.resolve("to-victim"), victim);
        Files.createSymbolicLink(dir.resolve("tree/to-file"), victim.resolve("precious"));
        Path topLink = Files.createSymbolicLink(dir.resolve("top-link"), victim);

        FileTrees.delete(dir.resolve("tree"));
        assertThat(FileTrees.deleteQuietly(topLink)).isTrue();
        FileTrees.delete(dir.resolve("never-there"));

        assertThat(dir.resolve("tree")).doesNotExist();
        assertThat(Files.exists(topLink, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(victim.resolve("precious")).hasContent("keep me");
    }
}
