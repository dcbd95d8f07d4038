package io.stowage.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The one-pass pipeline: sizes and SHA-256 come from the same pass that stores the bytes. */
class BackupStreamTest {

    /** A source over fixed bytes, standing in for a tool's stdout (pure logic, no process). */
    private static final class BytesSource implements BackupStream.Source {
        private final byte[] data;
        private final boolean fail;
        boolean closed;

        BytesSource(byte[] data, boolean fail) {
            this.data = data;
            this.fail = fail;
        }

        @Override
        public InputStream open() {
            return new ByteArrayInputStream(data);
        }

        @Override
        public void finish() {
            if (fail) {
                throw new StowageException("tool failed (exit status 1): boom");
            }
        }

        @Override
        public String objectName() {
            return "dump.bin";
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void should_measure_raw_and_stored_bytes_and_hash_exactly_what_is_stored() throws Exception {
        byte[] data = "hello hello hello hello hello hello".repeat(1000).getBytes();
        BytesSource source = new BytesSource(data, false);
        BackupStream stream = new BackupStream(source).compress(Codec.ZSTD, 1, 0).checksum();
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        BackupStream.Result result = stream.writeTo(sink);

        byte[] stored = sink.toByteArray();
        assertThat(result.objectName()).isEqualTo("dump.bin.zst");
        assertThat(result.rawBytes()).isEqualTo(data.length);
        assertThat(result.storedBytes()).isEqualTo(stored.length).isLessThan(data.length);
        assertThat(result.sha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(stored)));
        assertThat(Codec.ZSTD.decompress(new ByteArrayInputStream(stored)).readAllBytes()).isEqualTo(data);
        assertThat(source.closed).isTrue();
    }

    @Test
    void should_fail_when_the_tool_fails_even_after_all_its_output_was_read() {
        BytesSource source = new BytesSource(new byte[100], true);
        BackupStream stream = new BackupStream(source).compress(Codec.GZIP, 6, 0).checksum();
        assertThatThrownBy(() -> stream.writeTo(new ByteArrayOutputStream())).hasMessageContaining("boom");
        assertThat(source.closed).isTrue();
    }

    @Test
    void should_refuse_a_pipeline_whose_checksum_is_not_right_before_store() {
        BackupStream noChecksum = new BackupStream(new BytesSource(new byte[1], false)).compress(Codec.ZSTD, 1, 0);
        assertThatThrownBy(() -> noChecksum.writeTo(new ByteArrayOutputStream()))
                .hasMessageContaining("checksum step right before store");
        BackupStream checksumFirst = new BackupStream(new BytesSource(new byte[1], false)).checksum()
                .compress(Codec.ZSTD, 1, 0);
        assertThatThrownBy(() -> checksumFirst.writeTo(new ByteArrayOutputStream()))
                .hasMessageContaining("checksum step right before store");
    }

    @Test
    void should_refuse_two_compress_steps() {
        BackupStream stream = new BackupStream(new BytesSource(new byte[1], false)).compress(Codec.ZSTD, 1, 0);
        assertThatThrownBy(() -> stream.compress(Codec.GZIP, 6, 0)).hasMessageContaining("compresses twice");
    }
}
