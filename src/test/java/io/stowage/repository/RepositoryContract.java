package io.stowage.repository;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract of {@link Repository}, as its Javadoc states it, run against each implementation by a subclass that
 * gives every test a fresh, empty repository.
 */
abstract class RepositoryContract {
    /** More than two S3 parts of {@link S3Repository#MIN_PART_SIZE}, so S3 uses a multipart upload. */
    static final int LARGE = 12 * 1024 * 1024;

    @TempDir
    Path scratch;

    /** A fresh, empty repository for the current test. */
    protected abstract Repository repository();

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] read(Repository repository, String key) throws IOException {
        try (InputStream in = repository.open(key)) {
            return in.readAllBytes();
        }
    }

    static void put(Repository repository, String key, String content) throws IOException {
        repository.write(key, out -> out.write(content.getBytes(UTF_8)));
    }

    static boolean causedBy(Throwable thrown, Throwable cause) {
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t == cause) {
                return true;
            }
        }
        return false;
    }

    @Test
    void should_read_back_what_was_written() throws IOException {
        Repository repository = repository();

        repository.write("job/20261121T020000Z-F/manifest.json", out -> out.write("{\"ok\":true}".getBytes(UTF_8)));

        assertThat(read(repository, "job/20261121T020000Z-F/manifest.json")).asString(UTF_8).isEqualTo("{\"ok\":true}");
    }

    @Test
    void should_read_back_an_empty_object() throws IOException {
        Repository repository = repository();

        long size = repository.write("empty", out -> { });

        assertThat(size).isZero();
        assertThat(repository.exists("empty")).isTrue();
        assertThat(read(repository, "empty")).isEmpty();
    }

    @Test
    void should_read_back_a_large_object_byte_for_byte() throws IOException {
        Repository repository = repository();
        byte[] data = randomBytes(LARGE, 42);

        long size = repository.write("big/data.bin", out -> {
            // In uneven slices, as a compressor would hand them over.
            int off = 0;
            int step = 1;
            while (off < data.length) {
                int n = Math.min(step, data.length - off);
                out.write(data, off, n);
                off += n;
                step = step * 3 % 1_000_003 + 17;
            }
        });

        assertThat(size).isEqualTo(LARGE);
        assertThat(read(repository, "big/data.bin")).isEqualTo(data);
    }

    @Test
    void should_return_the_number_of_bytes_written() throws IOException {
        Repository repository = repository();

        long size = repository.write("counted", out -> {
            out.write(new byte[1000]);
            out.write(7);
            out.write(new byte[500], 100, 23);
        });

        assertThat(size).isEqualTo(1024);
        assertThat(read(repository, "counted")).hasSize(1024);
    }

    @Test
    void should_leave_no_object_when_the_writer_fails_half_way() throws IOException {
        Repository repository = repository();
        IOException boom = new IOException("writer failed");

        assertThatThrownBy(() -> repository.write("job/failed.bin", out -> {
            out.write(randomBytes(64 * 1024, 1));
            throw boom;
        })).satisfies(thrown -> assertThat(causedBy(thrown, boom)).as("the writer's failure is what is thrown").isTrue());

        assertThat(repository.exists("job/failed.bin")).isFalse();
        assertThat(repository.list("")).isEmpty();
        assertThatThrownBy(() -> repository.open("job/failed.bin")).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void should_keep_the_earlier_object_when_an_overwrite_fails_half_way() throws IOException {
        Repository repository = repository();
        put(repository, "job/latest", "the good one");
        IOException boom = new IOException("writer failed");

        assertThatThrownBy(() -> repository.write("job/latest", out -> {
            out.write("the bad o".getBytes(UTF_8));
            throw boom;
        })).satisfies(thrown -> assertThat(causedBy(thrown, boom)).isTrue());

        assertThat(read(repository, "job/latest")).asString(UTF_8).isEqualTo("the good one");
        assertThat(repository.list("")).containsExactly("job/latest");
    }

    @Test
    void should_replace_an_object_on_overwrite() throws IOException {
        Repository repository = repository();
        put(repository, "job/latest", "first version, the longer one");

        long size = repository.write("job/latest", out -> out.write("second".getBytes(UTF_8)));

        assertThat(size).isEqualTo(6);
        assertThat(read(repository, "job/latest")).asString(UTF_8).isEqualTo("second");
        assertThat(repository.list("job/")).containsExactly("job/latest");
    }

    @Test
    void should_throw_object_not_found_naming_key_and_repository_when_opening_a_missing_key() {
        Repository repository = repository();

        assertThatThrownBy(() -> repository.open("job/missing.bin"))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("job/missing.bin")
                .hasMessageContaining("'" + repository.name() + "'");
    }

    @Test
    void should_throw_object_not_found_when_opening_a_key_that_is_only_a_prefix() throws IOException {
        Repository repository = repository();
        put(repository, "job/here", "x");

        assertThatThrownBy(() -> read(repository, "job"))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("'job'");
    }

    @Test
    void should_tell_whether_an_object_exists() throws IOException {
        Repository repository = repository();
        put(repository, "job/here", "x");

        assertThat(repository.exists("job/here")).isTrue();
        assertThat(repository.exists("job/absent")).isFalse();
        assertThat(repository.exists("other/absent")).isFalse();
        assertThat(repository.exists("job")).as("a key prefix is not an object").isFalse();
    }

    @Test
    void should_list_nothing_under_a_prefix_that_holds_nothing() throws IOException {
        Repository repository = repository();

        assertThat(repository.list("")).isEmpty();
        assertThat(repository.list("nothing/here/")).isEmpty();
        put(repository, "job/a", "a");
        assertThat(repository.list("nothing/")).isEmpty();
        assertThat(repository.list("job/b")).isEmpty();
        assertThat(repository.list("jobs")).isEmpty();
    }

    @Test
    void should_list_keys_in_ascending_order() throws IOException {
        Repository repository = repository();
        List<String> written = List.of("job/b/2", "job/a", "job/c", "job/b/1", "job/A", "job/a-1", "job/a.1", "job/b0");
        for (String key : written) {
            put(repository, key, key);
        }

        List<String> keys = repository.list("job/");

        assertThat(keys).containsExactlyInAnyOrderElementsOf(written);
        assertThat(keys).isSorted();
    }

    @Test
    void should_list_only_keys_under_the_prefix_taken_as_a_key_prefix() throws IOException {
        Repository repository = repository();
        put(repository, "job/20261121T020000Z-F/manifest.json", "1");
        put(repository, "job/20261121T020000Z-F/data.zst", "2");
        put(repository, "job/20261122T020000Z-F/manifest.json", "3");
        put(repository, "job/20251231T020000Z-F/manifest.json", "4");
        put(repository, "jobs/20261121T020000Z-F/manifest.json", "5");
        put(repository, "other/job/2026", "6");
        put(repository, "top", "7");

        assertThat(repository.list("job/2026")).containsExactly(
                "job/20261121T020000Z-F/data.zst",
                "job/20261121T020000Z-F/manifest.json",
                "job/20261122T020000Z-F/manifest.json");
        assertThat(repository.list("job/20261121")).containsExactly(
                "job/20261121T020000Z-F/data.zst",
                "job/20261121T020000Z-F/manifest.json");
        assertThat(repository.list("job/")).hasSize(4).allMatch(key -> key.startsWith("job/"));
        assertThat(repository.list("job")).hasSize(5);
        assertThat(repository.list("t")).containsExactly("top");
        assertThat(repository.list("")).hasSize(7).isSorted();
    }

    @Test
    void should_name_the_objects_and_directories_directly_under_a_directory() throws IOException {
        Repository repository = repository();
        put(repository, "job/20261121T020000Z-F/manifest.json", "1");
        put(repository, "job/20261121T020000Z-F/dump.pgfc.zst", "2");
        put(repository, "job/wal/000000010000000000000001.zst", "3");
        put(repository, "job/wal/000000010000000000000002.zst", "4");
        put(repository, "other/x", "6");
        put(repository, "top", "7");

        assertThat(repository.children("")).containsExactly("job/", "other/", "top");
        assertThat(repository.children("job/")).containsExactly("20261121T020000Z-F/", "wal/");
        assertThat(repository.children("job/wal/")).containsExactly("000000010000000000000001.zst",
                "000000010000000000000002.zst");
        assertThat(repository.children("nothing/")).isEmpty();
    }

    @Test
    void should_never_list_or_show_a_write_in_progress() throws Exception {
        Repository repository = repository();
        put(repository, "job/done", "done");
        // More than one S3 part, so that on S3 a multipart upload is under way while we look.
        byte[] data = randomBytes(6 * 1024 * 1024 + 123, 7);
        CountDownLatch written = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Long> writing = CompletableFuture.supplyAsync(() -> {
            try {
                return repository.write("job/running.bin", out -> {
                    out.write(data, 0, data.length - 1000);
                    out.flush();
                    written.countDown();
                    try {
                        if (!release.await(60, TimeUnit.SECONDS)) {
                            throw new IOException("never released");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException(e);
                    }
                    out.write(data, data.length - 1000, 1000);
                });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            assertThat(written.await(60, TimeUnit.SECONDS)).as("the writer got going").isTrue();

            assertThat(repository.list("")).containsExactly("job/done");
            assertThat(repository.list("job/")).containsExactly("job/done");
            assertThat(repository.list("job/r")).isEmpty();
            assertThat(repository.exists("job/running.bin")).isFalse();
            assertThatThrownBy(() -> repository.open("job/running.bin")).isInstanceOf(ObjectNotFoundException.class);
        } finally {
            release.countDown();
        }

        assertThat(writing.get(120, TimeUnit.SECONDS)).isEqualTo(data.length);
        assertThat(repository.list("job/")).containsExactly("job/done", "job/running.bin");
        assertThat(read(repository, "job/running.bin")).isEqualTo(data);
    }

    @Test
    void should_remove_an_object_on_delete() throws IOException {
        Repository repository = repository();
        put(repository, "job/x/gone", "bye");
        put(repository, "job/x/kept", "stay");

        repository.delete("job/x/gone");

        assertThat(repository.exists("job/x/gone")).isFalse();
        assertThatThrownBy(() -> repository.open("job/x/gone")).isInstanceOf(ObjectNotFoundException.class);
        assertThat(repository.list("")).containsExactly("job/x/kept");
        repository.delete("job/x/kept");
        assertThat(repository.list("")).isEmpty();
        put(repository, "job/x/again", "back");
        assertThat(repository.list("")).containsExactly("job/x/again");
    }

    @Test
    void should_succeed_deleting_a_missing_key() throws IOException {
        Repository repository = repository();

        repository.delete("never/written");
        put(repository, "once", "1");
        repository.delete("once");
        repository.delete("once");

        assertThat(repository.exists("once")).isFalse();
        assertThat(repository.list("")).isEmpty();
    }

    /** Writes each key (its own name as content), several at a time: thousands of objects in a few seconds. */
    static void putAll(Repository repository, java.util.Collection<String> keys) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
        try {
            List<java.util.concurrent.Future<?>> writes = new java.util.ArrayList<>();
            for (String key : keys) {
                writes.add(pool.submit(() -> {
                    put(repository, key, key);
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> write : writes) {
                write.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void should_delete_thousands_of_keys_across_prefixes_in_one_call_and_nothing_beside_them() throws Exception {
        Repository repository = repository();
        // 2,500 keys: more than two of S3's DeleteObjects batches of 1,000.
        List<String> doomed = new java.util.ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            String directory = switch (i % 3) {
                case 0 -> "job/20261121T020000Z-F/";
                case 1 -> "job/wal/";
                default -> "other/deep/er/";
            };
            doomed.add(directory + String.format("%04d.zst", i));
        }
        // Neighbours: the same directories, keys that extend a doomed key or its directory's name, other jobs.
        List<String> kept = List.of("job/20261121T020000Z-F/manifest.json", "job/20261121T020000Z-F-2/0000.zst",
                "job/wal/0000.zst.sha256", "job/wal0000.zst", "jobs/wal/0001.zst", "other/deep/er2/0002.zst",
                "other/deep/0002.zst", "job/0003.zst");
        putAll(repository, doomed);
        putAll(repository, kept);
        assertThat(repository.list("")).hasSize(doomed.size() + kept.size());
        // In an order that is not the listing's: the repository may not rely on it.
        List<String> shuffled = new java.util.ArrayList<>(doomed);
        java.util.Collections.shuffle(shuffled, new Random(11));

        repository.delete(shuffled);

        assertThat(repository.list("")).containsExactlyInAnyOrderElementsOf(kept);
        assertThat(repository.children("other/deep/")).containsExactly("0002.zst", "er2/");
        for (String key : kept) {
            assertThat(read(repository, key)).asString(UTF_8).isEqualTo(key);
        }
    }

    @Test
    void should_delete_many_keys_some_of_which_are_missing_and_again_when_all_are() throws IOException {
        Repository repository = repository();
        put(repository, "job/a", "a");
        put(repository, "job/c", "c");
        put(repository, "job/d", "d");
        List<String> keys = List.of("job/a", "job/b", "never/written/at/all", "job/c", "job/a");

        repository.delete(keys);
        assertThat(repository.list("")).containsExactly("job/d");

        repository.delete(keys);
        repository.delete(List.of("job/missing"));
        assertThat(repository.list("")).containsExactly("job/d");
    }

    @Test
    void should_do_nothing_when_asked_to_delete_no_keys() throws IOException {
        Repository repository = repository();
        put(repository, "job/a", "a");

        repository.delete(List.of());
        repository.delete(java.util.Set.of());

        assertThat(repository.list("")).containsExactly("job/a");
        repository.delete(List.of());
        repository.delete("job/a");
        repository.delete(List.of());
        assertThat(repository.list("")).isEmpty();
    }

    @Test
    void should_delete_many_keys_with_every_kind_of_character_a_key_may_hold() throws IOException {
        Repository repository = repository();
        List<String> odd = List.of("job/a+b", "job/a+b+", "job/x_y", "job/v1.2-3", "job/9", "job/A", "job/a..b",
                "job/a+-._", "job/2026-11-21T02+00.zst", "job/Z/ABC_def+1.2-3/x");
        List<String> kept = List.of("job/a", "job/a+", "job/a+c", "job/x-y", "job/v1.2", "job/Z/ABC_def+1.2-3/y");
        for (String key : odd) {
            put(repository, key, key);
        }
        for (String key : kept) {
            put(repository, key, key);
        }

        repository.delete(odd);

        assertThat(repository.list("")).containsExactlyInAnyOrderElementsOf(kept);
        for (String key : odd) {
            assertThat(repository.exists(key)).as(key).isFalse();
        }
    }

    @Test
    void should_reject_a_batch_with_an_invalid_key_before_deleting_any() throws IOException {
        Repository repository = repository();
        put(repository, "job/a", "a");
        put(repository, "job/b", "b");

        assertThatThrownBy(() -> repository.delete(List.of("job/a", "job/../b", "job/b")))
                .isInstanceOf(StowageException.class).hasMessageContaining("job/../b");

        assertThat(repository.list("")).containsExactly("job/a", "job/b");
    }

    @Test
    void should_read_back_an_uploaded_file() throws IOException {
        Repository repository = repository();
        byte[] data = randomBytes(LARGE / 2 + 77, 3);
        Path file = Files.write(scratch.resolve("upload.bin"), data);

        repository.upload("job/uploaded.bin", file);

        assertThat(read(repository, "job/uploaded.bin")).isEqualTo(data);
        assertThat(repository.list("job/")).containsExactly("job/uploaded.bin");
        assertThat(file).hasBinaryContent(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"../x", "/abs", "a//b", ".hidden", "a/../b", "a/", "a/.b", ""})
    void should_reject_an_invalid_key_before_any_io(String key) throws IOException {
        Repository repository = repository();
        AtomicBoolean writerCalled = new AtomicBoolean();
        Path file = Files.write(scratch.resolve("file"), new byte[] {1, 2, 3});

        assertThatThrownBy(() -> repository.write(key, out -> {
            writerCalled.set(true);
            out.write(1);
        })).isInstanceOf(StowageException.class).hasMessageContaining("key");
        assertThatThrownBy(() -> repository.upload(key, file)).isInstanceOf(StowageException.class);
        assertThatThrownBy(() -> repository.open(key)).isInstanceOf(StowageException.class)
                .isNotInstanceOf(ObjectNotFoundException.class);
        assertThatThrownBy(() -> repository.exists(key)).isInstanceOf(StowageException.class);
        assertThatThrownBy(() -> repository.delete(key)).isInstanceOf(StowageException.class);

        assertThat(writerCalled).as("the writer never ran").isFalse();
        assertThat(repository.list("")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"../", "/abs/", "a//", ".hidden/"})
    void should_reject_an_invalid_prefix(String prefix) {
        Repository repository = repository();

        assertThatThrownBy(() -> repository.list(prefix)).isInstanceOf(StowageException.class);
    }

    @Test
    void should_pass_check() throws IOException {
        Repository repository = repository();

        repository.check();
        put(repository, "after/check", "ok");
        repository.check();

        assertThat(repository.list("")).containsExactly("after/check");
    }

    @Test
    void should_copy_an_object_from_a_local_repository() throws IOException {
        Repository repository = repository();
        LocalRepository source = new LocalRepository("source", scratch.resolve("copy-source"));
        byte[] data = randomBytes(LARGE, 41);
        source.write("job/20261121T020000Z-F/dump.pgfc.zst", out -> out.write(data));

        repository.copy("job/20261121T020000Z-F/dump.pgfc.zst", source, null);

        assertThat(read(repository, "job/20261121T020000Z-F/dump.pgfc.zst")).isEqualTo(data);
        assertThat(source.exists("job/20261121T020000Z-F/dump.pgfc.zst")).as("the source keeps its object").isTrue();
    }

    @Test
    void should_copy_an_object_read_as_a_stream_from_a_repository_without_local_files() throws IOException {
        Repository repository = repository();
        LocalRepository files = new LocalRepository("files", scratch.resolve("stream-source"));
        byte[] data = randomBytes(1024 * 1024, 43);
        files.write("job/wal/000000010000000000000001.zst", out -> out.write(data));
        Repository streamed = new StreamOnly(files);

        repository.copy("job/wal/000000010000000000000001.zst", streamed, null);

        assertThat(read(repository, "job/wal/000000010000000000000001.zst")).isEqualTo(data);
    }

    @Test
    void should_fail_a_copy_of_a_missing_object_as_not_found_leaving_nothing() throws IOException {
        Repository repository = repository();
        LocalRepository source = new LocalRepository("source", scratch.resolve("empty-source"));

        assertThatThrownBy(() -> repository.copy("job/missing", source, null))
                .isInstanceOf(ObjectNotFoundException.class).hasMessageContaining("job/missing");
        assertThatThrownBy(() -> repository.copy("job/missing", new StreamOnly(source), null))
                .isInstanceOf(ObjectNotFoundException.class);
        assertThat(repository.list("")).isEmpty();
    }

    /** A repository that offers no local file: copies from it read a stream, as from S3 to a local directory. */
    static final class StreamOnly extends io.stowage.testing.ForwardingRepository {
        StreamOnly(Repository inner) {
            super(inner);
        }

        @Override
        public String name() {
            return "stream-" + delegate.name();
        }
    }
}
