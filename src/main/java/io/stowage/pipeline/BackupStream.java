package io.stowage.pipeline;

import io.stowage.StowageException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A backup's bytes on their way from the database tool to a repository: the message body that the steps of a
 * backup route hand on. The source step sets where the bytes come from; each filter step (compress, checksum, later
 * encrypt) adds a stage; the store step then runs the whole chain once, in one pass, in bounded memory:
 *
 * <pre>tool stdout -> count raw bytes -> stage 1 -> stage 2 -> ... -> count stored bytes -> repository</pre>
 *
 * Nothing is buffered beyond one copy buffer and the codecs' own windows, and nothing uncompressed touches disk.
 */
public final class BackupStream {
    private static final int BUFFER = 1 << 20;

    /** Where a backup's bytes come from: a tool's stdout. */
    public interface Source extends AutoCloseable {
        /** The stream to read the dump from. */
        InputStream open();

        /** Called after the stream was read to its end: fails if the tool did not succeed. */
        void finish();

        /** The object's name in the repository before any codec suffix, for example {@code dump.pgfc}. */
        String objectName();

        /** Stops the tool if it still runs. */
        @Override
        void close();
    }

    /** A filter the bytes pass through, in route order. */
    public interface Stage {
        OutputStream wrap(OutputStream downstream) throws IOException;
    }

    private final Source source;
    private final List<Stage> stages = new ArrayList<>();
    private Codec codec = Codec.NONE;
    private int level;
    private MessageDigest digest;
    private boolean checksumLast;
    private io.stowage.crypto.AgeKeys encryption;

    public BackupStream(Source source) {
        this.source = source;
    }

    /** Adds a compression stage. At most one per backup: the manifest records one codec. */
    public BackupStream compress(Codec codec, int level, int workers) {
        if (this.codec != Codec.NONE) {
            throw StowageException.usage("the route compresses twice: keep one compress step");
        }
        this.codec = codec;
        this.level = level;
        stages.add(out -> codec.compress(out, level, workers));
        checksumLast = false;
        return this;
    }

    /** Adds the SHA-256 stage: it sees exactly the bytes that are stored, so it must come right before store. */
    public BackupStream checksum() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            digest = sha;
            stages.add(out -> new java.security.DigestOutputStream(out, sha));
            checksumLast = true;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
        return this;
    }

    /**
     * Adds age encryption with these keys (to their recipients, or with their passphrase); the object gets the
     * {@code .age} suffix.
     */
    public BackupStream encrypt(io.stowage.crypto.AgeKeys keys) {
        if (encryption != null) {
            throw StowageException.usage("the route encrypts twice: keep one encrypt step");
        }
        if (!keys.encrypts()) {
            throw new IllegalArgumentException("no age recipients or passphrase to encrypt with");
        }
        this.encryption = keys;
        stages.add(keys::encrypt);
        checksumLast = false;
        return this;
    }

    /** The age recipients the stream is encrypted to; empty when it is not encrypted or has a passphrase. */
    public List<String> recipients() {
        return encryption == null ? List.of() : encryption.recipients();
    }

    /** Whether the stream is encrypted with a passphrase. */
    public boolean passphrase() {
        return encryption != null && encryption.passphrase();
    }

    /** Adds any other filter. */
    public BackupStream stage(Stage stage) {
        stages.add(stage);
        checksumLast = false;
        return this;
    }

    public Codec codec() {
        return codec;
    }

    public int level() {
        return level;
    }

    public String objectName() {
        return source.objectName() + codec.extension() + (encryption == null ? "" : io.stowage.crypto.AgeEncryption.EXTENSION);
    }

    /**
     * Runs the tool's output through every stage into {@code sink} and closes it. On any failure the tool is stopped
     * and the exception is thrown: the caller discards whatever reached the sink.
     */
    public Result writeTo(OutputStream sink) throws IOException {
        if (digest == null || !checksumLast) {
            throw StowageException.usage("the route must have a checksum step right before store: "
                    + "the manifest records the SHA-256 of every stored object");
        }
        CountingOutputStream stored = new CountingOutputStream(sink);
        OutputStream chain = stored;
        try {
            for (int i = stages.size() - 1; i >= 0; i--) {
                chain = stages.get(i).wrap(chain);
            }
        } catch (IOException | RuntimeException e) {
            // the stages built so far hold native memory (a zstd context) until closed
            try {
                chain.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        long raw = 0;
        io.stowage.Interruption.check();
        try (source; OutputStream out = chain; InputStream in = source.open()) {
            byte[] buffer = new byte[BUFFER];
            int n;
            while ((n = in.read(buffer)) != -1) {
                // A stop may end the tool with its output cut short: never store that as if it were whole.
                io.stowage.Interruption.check();
                out.write(buffer, 0, n);
                raw += n;
            }
            io.stowage.Interruption.check();
            source.finish();
        }
        return new Result(objectName(), raw, stored.count(), HexFormat.of().formatHex(digest.digest()));
    }

    /** What one pass measured: bytes read from the tool, bytes stored, SHA-256 of the stored bytes. */
    public record Result(String objectName, long rawBytes, long storedBytes, String sha256) {
    }

    private static final class CountingOutputStream extends FilterOutputStream {
        private long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        long count() {
            return count;
        }
    }
}
