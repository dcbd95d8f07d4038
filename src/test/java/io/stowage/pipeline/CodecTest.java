package io.stowage.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Each codec round-trips, and writes the format its standard command-line tool reads. */
class CodecTest {
    @TempDir
    Path dir;

    private static byte[] sample() {
        byte[] data = new byte[3 * 1024 * 1024];
        Random random = new Random(7);
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i % 4096 < 2048 ? 'a' + (i % 26) : random.nextInt());
        }
        return data;
    }

    private static byte[] compress(Codec codec, byte[] data, int workers) throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (OutputStream out = codec.compress(buffer, codec.defaultLevel(), workers)) {
            out.write(data);
        }
        return buffer.toByteArray();
    }

    @ParameterizedTest
    @EnumSource(Codec.class)
    void should_read_back_what_it_wrote(Codec codec) throws Exception {
        byte[] data = sample();
        byte[] compressed = compress(codec, data, 2);
        if (codec != Codec.NONE) {
            assertThat(compressed.length).isLessThan(data.length);
        }
        assertThat(codec.decompress(new ByteArrayInputStream(compressed)).readAllBytes()).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "gzip", "xz", "lz4"})
    void should_write_what_the_standard_tool_decompresses(String tool) throws Exception {
        Codec codec = Codec.of(tool);
        byte[] data = sample();
        Path file = dir.resolve("object" + codec.extension());
        Files.write(file, compress(codec, data, 0));
        Path out = dir.resolve("plain");
        Process process = new ProcessBuilder(tool, "-d", "-c", file.toString())
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertThat(process.waitFor()).as(tool + " -d").isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "gzip", "xz"})
    void should_read_what_the_standard_tool_compressed(String tool) throws Exception {
        Codec codec = Codec.of(tool);
        byte[] data = sample();
        Path plain = Files.write(dir.resolve("plain"), data);
        Path compressed = dir.resolve("plain" + codec.extension());
        Process process = new ProcessBuilder(tool, "-k", plain.toString()).redirectErrorStream(true).start();
        assertThat(process.waitFor()).as(tool).isZero();
        assertThat(codec.decompress(Files.newInputStream(compressed)).readAllBytes()).isEqualTo(data);
    }

    @ParameterizedTest
    @ValueSource(strings = {"brotli", "", "zip"})
    void should_refuse_an_unknown_codec_as_bad_usage(String name) {
        assertThatThrownBy(() -> Codec.of(name)).isInstanceOf(StowageException.class)
                .hasMessageContaining("unknown codec").hasMessageContaining("zstd, gzip, lz4, xz, none")
                .satisfies(e -> assertThat(((StowageException) e).exitCode()).isEqualTo(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "20", "x"})
    void should_refuse_a_zstd_level_out_of_range(String level) {
        assertThatThrownBy(() -> Codec.ZSTD.level(level)).isInstanceOf(StowageException.class);
    }
}
