package io.stowage.repository;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The repository contract, and what only a local directory promises, run against {@link LocalRepository}. */
class LocalRepositoryTest extends RepositoryContract {
    @TempDir
    Path dir;

    private Path root;
    private LocalRepository repository;

    @BeforeEach
    void createRepository() {
        // Not created yet: the repository makes its own root.
        root = dir.resolve("backups");
        repository = new LocalRepository("local", root);
    }

    @Override
    protected Repository repository() {
        return repository;
    }

    private static String permissions(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    /** A temporary file as an interrupted write leaves it, {@code .NAME.tmp-UUID}, last modified {@code age} ago. */
    private static Path leftover(Path dir, String name, Duration age) throws IOException {
        Files.createDirectories(dir);
        Path tmp = Files.write(dir.resolve("." + name + ".tmp-" + UUID.randomUUID()), new byte[] {1, 2, 3});
        Files.setLastModifiedTime(tmp, FileTime.from(Instant.now().minus(age)));
        return tmp;
    }

    private static long filesIn(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void should_create_files_0600_and_directories_0700() throws IOException {
        repository.write("job/20261121T020000Z-F/data.zst", out -> out.write("secret".getBytes(UTF_8)));
        repository.upload("job/20261121T020000Z-F/uploaded", Files.write(dir.resolve("plain"), new byte[] {1}));

        assertThat(permissions(root)).isEqualTo("rwx------");
        assertThat(permissions(root.resolve("job"))).isEqualTo("rwx------");
        assertThat(permissions(root.resolve("job/20261121T020000Z-F"))).isEqualTo("rwx------");
        assertThat(permissions(root.resolve("job/20261121T020000Z-F/data.zst"))).isEqualTo("rw-------");
        assertThat(permissions(root.resolve("job/20261121T020000Z-F/uploaded"))).isEqualTo("rw-------");
    }

    @Test
    void should_store_an_object_as_the_file_its_key_names() throws IOException {
        repository.write("job/x/data", out -> out.write("abc".getBytes(UTF_8)));

        assertThat(repository.file("job/x/data")).isEqualTo(root.resolve("job/x/data")).hasContent("abc");
        assertThat(repository.location()).isEqualTo(root.toString());
    }

    @Test
    void should_leave_no_temporary_file_when_the_writer_fails() throws IOException {
        repository.write("job/kept", out -> out.write(1));

        assertThatThrownBy(() -> repository.write("job/failed", out -> {
            out.write(new byte[3 * 1024 * 1024]);
            throw new IOException("writer failed");
        })).hasMessage("writer failed");

        try (Stream<Path> entries = Files.list(root.resolve("job"))) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("kept");
        }
    }

    @Test
    void should_delete_the_other_keys_and_name_the_one_that_failed_and_how_many() throws IOException {
        repository.write("job/a", out -> out.write(1));
        repository.write("job/b", out -> out.write(2));
        // A directory where a key's file would be: it cannot be deleted as a file.
        repository.write("job/x/inside", out -> out.write(3));

        assertThatThrownBy(() -> repository.delete(java.util.List.of("job/a", "job/x", "job/b", "job/c")))
                .isInstanceOfSatisfying(RepositoryException.class, e -> {
                    assertThat(e.getMessage())
                            .startsWith("cannot delete 'job/x' in repository 'local' (" + root + "): ")
                            .endsWith(" (1 of 4 keys not deleted)");
                    assertThat(e.isTransient()).isFalse();
                });

        assertThat(repository.list("")).containsExactly("job/x/inside");
    }

    @Test
    void should_remove_the_directories_a_batch_delete_emptied() throws IOException {
        repository.write("job/20261121T020000Z-F/a", out -> out.write(1));
        repository.write("job/20261121T020000Z-F/b", out -> out.write(2));
        repository.write("job/wal/c", out -> out.write(3));

        repository.delete(java.util.List.of("job/20261121T020000Z-F/a", "job/20261121T020000Z-F/b"));

        assertThat(root.resolve("job/20261121T020000Z-F")).doesNotExist();
        assertThat(root.resolve("job/wal/c")).exists();
    }

    @Test
    void should_fail_check_naming_the_directory_when_the_root_cannot_be_created() throws IOException {
        Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
        LocalRepository blocked = new LocalRepository("local", file.resolve("backups"));

        assertThatThrownBy(blocked::check)
                .isInstanceOf(RepositoryException.class)
                .hasMessageContaining(file.resolve("backups").toString())
                .hasMessageContaining("'local'");
        assertThat(file).hasContent("not a directory");
    }

    @Test
    void should_leave_no_probe_behind_after_check() throws IOException {
        repository.check();

        assertThat(root).isDirectory();
        assertThat(filesIn(root)).isZero();
    }

    @Test
    void should_fail_a_write_with_a_repository_exception_naming_repository_and_key() throws IOException {
        Files.createDirectories(root);
        Files.writeString(root.resolve("blocker"), "a file where a directory is needed");

        assertThatThrownBy(() -> repository.write("blocker/x", out -> out.write(1)))
                .isInstanceOf(RepositoryException.class)
                .hasMessageContaining("'local'")
                .hasMessageContaining("blocker/x");
        assertThat(root.resolve("blocker")).hasContent("a file where a directory is needed");
    }

    @Test
    void should_clean_up_temporary_files_of_interrupted_writes_under_the_prefix() throws IOException {
        repository.write("job/20261121T020000Z-F/data.zst", out -> out.write(1));
        Path oldTop = leftover(root.resolve("job"), "latest", Duration.ofDays(2));
        Path oldDeep = leftover(root.resolve("job/20261121T020000Z-F"), "data.zst", Duration.ofHours(2));
        // The caller holds the job's lock, so even a recent temporary file is a leftover.
        Path recent = leftover(root.resolve("job/20261121T020000Z-F"), "manifest.json", Duration.ZERO);
        Path onlyLeftover = leftover(root.resolve("job/20261122T020000Z-F"), "data.zst", Duration.ZERO);
        Path otherJob = leftover(root.resolve("jobs"), "data.zst", Duration.ofDays(2));
        Path hiddenNotTemporary = Files.write(root.resolve("job/.keep"), new byte[] {1});

        repository.cleanUpInterruptedWrites("job/");

        assertThat(oldTop).doesNotExist();
        assertThat(oldDeep).doesNotExist();
        assertThat(recent).doesNotExist();
        assertThat(onlyLeftover).doesNotExist();
        assertThat(otherJob).as("outside the prefix").exists();
        assertThat(hiddenNotTemporary).as("hidden but not a temporary file").exists();
        assertThat(repository.list("")).containsExactly("job/20261121T020000Z-F/data.zst");
        assertThat(repository.file("job/20261121T020000Z-F/data.zst")).hasBinaryContent(new byte[] {1});
    }

    @Test
    void should_clean_up_the_whole_repository_with_an_empty_prefix() throws IOException {
        Path leftover = leftover(root.resolve("other/deep"), "x", Duration.ofHours(3));
        repository.write("other/kept", out -> out.write(1));

        repository.cleanUpInterruptedWrites("");
        repository.cleanUpInterruptedWrites("missing/");

        assertThat(leftover).doesNotExist();
        assertThat(repository.list("")).containsExactly("other/kept");
    }

    @Test
    void should_list_while_files_and_directories_appear_and_vanish_beside_the_listing() throws Exception {
        repository.write("job/20261121T020000Z-F/manifest.json", out -> out.write('m'));
        Path wal = Files.createDirectories(root.resolve("job/wal"));
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
        // As the WAL route does: a temporary written and renamed into place; and older files removed (as expiry does),
        // with a directory now and then.
        Thread writer = new Thread(() -> {
            for (long n = 0; !stop.get(); n++) {
                try {
                    Path tmp = Files.write(wal.resolve(".seg" + n + ".zst.sha256.tmp-" + UUID.randomUUID()),
                            new byte[] {1});
                    Files.move(tmp, wal.resolve("seg" + n + ".zst.sha256"));
                    Files.deleteIfExists(wal.resolve("seg" + (n - 20) + ".zst.sha256"));
                    Path sub = wal.resolve("d" + (n % 5));
                    if (Files.isDirectory(sub)) {
                        Files.deleteIfExists(sub.resolve("x"));
                        Files.deleteIfExists(sub);
                    } else {
                        Files.write(Files.createDirectories(sub).resolve("x"), new byte[] {2});
                    }
                    changes.incrementAndGet();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        writer.start();
        try {
            for (int i = 0; i < 2000; i++) {
                assertThat(repository.list("job/")).contains("job/20261121T020000Z-F/manifest.json")
                        .allMatch(key -> !key.contains(".tmp-"));
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(changes.get()).as("files came and went during the listings").isPositive();
    }
}
