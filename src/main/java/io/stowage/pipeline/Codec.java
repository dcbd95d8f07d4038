package io.stowage.pipeline;

import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipParameters;
import org.apache.commons.compress.compressors.lz4.FramedLZ4CompressorInputStream;
import org.apache.commons.compress.compressors.lz4.FramedLZ4CompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;

/**
 * The compression codecs a job may choose. Each writes the standard container format of its command-line tool
 * (zstd frames, gzip, the LZ4 frame format, xz), so a stored object can be read back with {@code zstd -d},
 * {@code gzip -d}, {@code lz4 -d} or {@code xz -d} alone.
 */
public enum Codec {
    ZSTD("zstd", ".zst", 1, 1, 19),
    GZIP("gzip", ".gz", 6, 1, 9),
    LZ4("lz4", ".lz4", 1, 1, 1),
    XZ("xz", ".xz", 6, 0, 9),
    NONE("none", "", 0, 0, 0);

    private final String id;
    private final String extension;
    private final int defaultLevel;
    private final int minLevel;
    private final int maxLevel;

    Codec(String id, String extension, int defaultLevel, int minLevel, int maxLevel) {
        this.id = id;
        this.extension = extension;
        this.defaultLevel = defaultLevel;
        this.minLevel = minLevel;
        this.maxLevel = maxLevel;
    }

    public String id() {
        return id;
    }

    /** The file name suffix of the codec's command-line tool, empty for {@link #NONE}. */
    public String extension() {
        return extension;
    }

    public int defaultLevel() {
        return defaultLevel;
    }

    public static Codec of(String name) {
        String wanted = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (Codec codec : values()) {
            if (codec.id.equals(wanted)) {
                return codec;
            }
        }
        throw StowageException.usage("unknown codec '" + name + "': choose one of "
                + Arrays.stream(values()).map(Codec::id).collect(Collectors.joining(", ")));
    }

    /** Checks a level for this codec; a missing level (null or blank) means the codec's default. */
    public int level(String level) {
        if (level == null || level.isBlank()) {
            return defaultLevel;
        }
        int value;
        try {
            value = Integer.parseInt(level.trim());
        } catch (NumberFormatException e) {
            throw StowageException.usage("compression level '" + level + "' is not a number");
        }
        if (value < minLevel || value > maxLevel) {
            throw StowageException.usage("compression level " + value + " is out of range for " + id
                    + " (" + minLevel + " to " + maxLevel + ")");
        }
        return value;
    }

    /**
     * Wraps {@code out} in a compressor. Closing the returned stream finishes the codec's frame and closes
     * {@code out}.
     *
     * @param workers zstd worker threads (0 compresses on the caller's thread); ignored by other codecs
     */
    public OutputStream compress(OutputStream out, int level, int workers) throws IOException {
        switch (this) {
            case ZSTD:
                // zstd-jni's stream without a finalizer: its native context is freed by close (every caller closes
                // it, on failure too), not left for the GC to find; its 128 KiB output buffers are reused.
                ZstdOutputStreamNoFinalizer zstd = new ZstdOutputStreamNoFinalizer(out, RecyclingBufferPool.INSTANCE);
                try {
                    zstd.setLevel(level);
                    zstd.setWorkers(workers);
                    zstd.setChecksum(true);
                } catch (IOException | RuntimeException e) {
                    zstd.closeWithoutClosingParentStream();
                    throw e;
                }
                return zstd;
            case GZIP:
                GzipParameters parameters = new GzipParameters();
                parameters.setCompressionLevel(level);
                return new GzipCompressorOutputStream(out, parameters);
            case LZ4:
                return new FramedLZ4CompressorOutputStream(out);
            case XZ:
                return new XZCompressorOutputStream(out, level);
            case NONE:
            default:
                return out;
        }
    }

    /** Wraps {@code in} in the matching decompressor. */
    public InputStream decompress(InputStream in) throws IOException {
        switch (this) {
            case ZSTD:
                return new ZstdInputStreamNoFinalizer(in, RecyclingBufferPool.INSTANCE);
            case GZIP:
                return new GzipCompressorInputStream(in, true);
            case LZ4:
                return new FramedLZ4CompressorInputStream(in, true);
            case XZ:
                return new XZCompressorInputStream(in);
            case NONE:
            default:
                return in;
        }
    }
}
