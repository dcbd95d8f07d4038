package io.stowage.crypto;

import io.stowage.Secrets;
import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An age passphrase, read from a file (AGE_PASSPHRASE_FILE): the file's text, UTF-8, less one trailing line end.
 * It is registered with {@link Secrets}, so it is masked wherever it might be echoed; {@link #toString()} never shows
 * it.
 */
public final class Passphrase {
    /** A passphrase file larger than this is not a passphrase file. */
    private static final int MAX_BYTES = 4096;

    private final byte[] utf8;

    private Passphrase(byte[] utf8) {
        this.utf8 = utf8;
    }

    /** Reads the passphrase from {@code file}; a missing, unreadable, empty or multi-line file is a usage error. */
    public static Passphrase read(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw StowageException.usage("cannot read the passphrase file " + file + " (AGE_PASSPHRASE_FILE): "
                    + io.stowage.Failures.reason(e) + "; HINT: point AGE_PASSPHRASE_FILE at a readable file holding the "
                    + "passphrase");
        }
        if (bytes.length > MAX_BYTES) {
            throw StowageException.usage("passphrase file " + file + " is larger than " + MAX_BYTES + " bytes: it does "
                    + "not look like a passphrase file");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw StowageException.usage("passphrase file " + file + " is not UTF-8 text");
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        if (text.endsWith("\r\n")) {
            text = text.substring(0, text.length() - 2);
        } else if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.isEmpty()) {
            throw StowageException.usage("passphrase file " + file + " is empty; HINT: write the passphrase into it");
        }
        if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) {
            throw StowageException.usage("passphrase file " + file + " holds more than one line; HINT: the passphrase "
                    + "is the file's one line");
        }
        Secrets.register(text);
        return new Passphrase(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A passphrase given directly (tests, and callers that already hold one). */
    public static Passphrase of(String text) {
        if (text == null || text.isEmpty()) {
            throw StowageException.usage("the passphrase is empty");
        }
        Secrets.register(text);
        return new Passphrase(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A copy of the passphrase's UTF-8 bytes; the caller clears it after use. */
    byte[] bytes() {
        return utf8.clone();
    }

    @Override
    public String toString() {
        return "Passphrase[" + Secrets.MASK + "]";
    }
}
