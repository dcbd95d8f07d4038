package io.stowage.crypto;

import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.framework.stream.StandardDecryptingChannelFactory;
import com.exceptionfactory.jagged.framework.stream.StandardEncryptingChannelFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaReaderFactory;
import com.exceptionfactory.jagged.x25519.X25519RecipientStanzaWriterFactory;
import io.stowage.Secrets;
import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * Encryption in the age format (X25519 recipients), through the jagged library: what Stowage writes, the age
 * command-line tool reads ({@code age -d -i KEY}), and the other way round. Backups are encrypted to public keys, so
 * the backup host cannot read old backups; restores need an identity (a secret key) in the file that
 * AGE_IDENTITY_FILE names.
 */
public final class AgeEncryption {
    public static final String EXTENSION = ".age";

    private AgeEncryption() {
    }

    /** Recipients from a comma- or space-separated list of {@code age1...} public keys. */
    public static List<String> recipients(String text) {
        List<String> recipients = new ArrayList<>();
        if (text == null) {
            return recipients;
        }
        for (String part : text.split("[,\\s]+")) {
            if (part.isBlank()) {
                continue;
            }
            if (!part.startsWith("age1")) {
                throw StowageException.usage("'" + part + "' is not an age public key (age1...): check AGE_RECIPIENTS");
            }
            recipients.add(part);
        }
        return recipients;
    }

    /** Wraps {@code out}: what is written is encrypted to every recipient. Closing finishes the age stream. */
    public static OutputStream encrypt(OutputStream out, List<String> recipients) throws IOException {
        try {
            List<RecipientStanzaWriter> writers = new ArrayList<>();
            for (String recipient : recipients) {
                writers.add(X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(recipient));
            }
            return Channels.newOutputStream(new StandardEncryptingChannelFactory()
                    .newEncryptingChannel(Channels.newChannel(out), writers));
        } catch (GeneralSecurityException e) {
            throw StowageException.usage("cannot encrypt to the configured age recipients: " + e.getMessage());
        }
    }

    /** The identities ({@code AGE-SECRET-KEY-1...}) in an age identity file, as age-keygen writes it. */
    public static List<String> identities(Path file) {
        if (file == null) {
            throw new StowageException("the backup is encrypted and no identity is configured; HINT: set "
                    + "AGE_IDENTITY_FILE to a file holding the age secret key");
        }
        try {
            List<String> identities = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                String key = line.strip();
                if (key.startsWith("AGE-SECRET-KEY-")) {
                    Secrets.register(key);
                    identities.add(key);
                }
            }
            if (identities.isEmpty()) {
                throw new StowageException("age identity file " + file + " holds no AGE-SECRET-KEY- line");
            }
            return identities;
        } catch (IOException e) {
            throw new StowageException("cannot read age identity file " + file + ": " + e.getMessage());
        }
    }

    /** Wraps {@code in}: reads the plaintext of an age stream, with any of the identities. */
    public static InputStream decrypt(InputStream in, List<String> identities) throws IOException {
        try {
            List<RecipientStanzaReader> readers = new ArrayList<>();
            for (String identity : identities) {
                readers.add(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(identity));
            }
            return Channels.newInputStream(new StandardDecryptingChannelFactory()
                    .newDecryptingChannel(Channels.newChannel(in), readers));
        } catch (GeneralSecurityException e) {
            throw new StowageException("cannot decrypt: none of the identities in AGE_IDENTITY_FILE can read this "
                    + "backup (" + e.getMessage() + ")");
        }
    }
}
