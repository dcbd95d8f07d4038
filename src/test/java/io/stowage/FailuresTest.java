package io.stowage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.junit.jupiter.api.Test;

/**
 * The line an operator reads for an I/O failure says what went wrong with which file: Java's file exceptions carry
 * only the path as their message, which alone reads as if the path itself were the error.
 */
class FailuresTest {
    @Test
    void should_say_what_went_wrong_with_a_file() {
        assertThat(Failures.describe(new NoSuchFileException("/srv/key.txt"))).isEqualTo("no such file or directory: "
                + "/srv/key.txt");
        assertThat(Failures.describe(new AccessDeniedException("/srv/backups/x"))).isEqualTo("permission denied: "
                + "/srv/backups/x");
        assertThat(Failures.describe(new FileAlreadyExistsException("/srv/a"))).isEqualTo("already exists: /srv/a");
        assertThat(Failures.describe(new NotDirectoryException("/srv/a"))).isEqualTo("not a directory: /srv/a");
        assertThat(Failures.describe(new FileSystemException("/srv/a/b", null, "Not a directory")))
                .isEqualTo("not a directory: /srv/a/b");
        assertThat(Failures.describe(new FileSystemException("/srv/a", "/srv/b", "Invalid cross-device link")))
                .isEqualTo("invalid cross-device link: /srv/a -> /srv/b");
        assertThat(Failures.describe(new FileSystemException("/srv/audit/x.jsonl", null, "No space left on device")))
                .isEqualTo("disk full writing /srv/audit/x.jsonl");
        assertThat(Failures.describe(new IOException("No space left on device"))).isEqualTo("disk full (no space left "
                + "on device)");
        // Wrapped, as Camel and the JDK's streams wrap them.
        assertThat(Failures.describe(new RuntimeException("wrapper", new UncheckedIOException(
                new NoSuchFileException("/srv/key.txt"))))).isEqualTo("no such file or directory: /srv/key.txt");
        // Stowage's own message stays as it was written.
        assertThat(Failures.describe(new StowageException("backup 1 failed", new NoSuchFileException("/x"))))
                .isEqualTo("backup 1 failed");
    }

    @Test
    void should_give_the_reason_alone_where_the_file_is_named_already() {
        assertThat(Failures.reason(new NoSuchFileException("/srv/key.txt"))).isEqualTo("no such file or directory");
        assertThat(Failures.reason(new IllegalStateException("boom"))).isEqualTo("boom");
    }
}
