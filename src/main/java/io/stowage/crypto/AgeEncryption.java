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
 * Encryption in the age format, through the jagged library: what Stowage writes, the age command-line tool reads
 * ({@code age -d -i KEY}, or {@code age -d} and the passphrase), and the other way round. Backups are encrypted to
 * X25519 public keys, so the backup host cannot read old backups, and restores need an identity (a secret key) in the
 * file that AGE_IDENTITY_FILE names; or, for small setups, with a passphrase (an scrypt stanza, {@link ScryptStanza}),
 * which the same host both writes and reads with. {@link AgeKeys} holds what is configured.
 */
public final class AgeEncryption {
    public static final String EXTENSION = ".age";

    private AgeEncryption() {
    }

    /**
     * Recipients from a comma- or space-separated list of {@code age1...} public keys, each checked as age would, so
     * that a damaged key fails at start rather than at the night's backup. A value that is not a public key is never
     * echoed whole: it may be the secret key, pasted into the wrong variable.
     */
    public static List<String> recipients(String text) {
        List<String> recipients = new ArrayList<>();
        if (text == null) {
            return recipients;
        }
        List<String> parts = java.util.Arrays.stream(text.split("[,\\s]+")).filter(p -> !p.isBlank()).toList();
        for (String part : parts) {
            if (part.regionMatches(true, 0, "AGE-SECRET-KEY-", 0, "AGE-SECRET-KEY-".length())) {
                Secrets.register(part);
                throw StowageException.usage("AGE_RECIPIENTS holds a secret key (AGE-SECRET-KEY-...), not a public "
                        + "key; " + RECIPIENT_HINT);
            }
        }
        for (String part : parts) {
            if (!part.startsWith("age1")) {
                throw StowageException.usage("AGE_RECIPIENTS holds a value that is not an age public key (age1...); "
                        + RECIPIENT_HINT);
            }
            try {
                X25519RecipientStanzaWriterFactory.newRecipientStanzaWriter(part);
            } catch (GeneralSecurityException | RuntimeException e) {
                throw StowageException.usage("AGE_RECIPIENTS holds '" + part.substring(0, Math.min(12, part.length()))
                        + "...', which is not a valid age public key; " + RECIPIENT_HINT);
            }
            recipients.add(part);
        }
        return recipients;
    }

    private static final String RECIPIENT_HINT = "HINT: use the public key age-keygen -y prints";

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
            throw new StowageException("cannot read age identity file " + file + ": " + io.stowage.Failures.reason(e));
        }
    }

    /** Wraps {@code in}: reads the plaintext of an age stream, with any of the identities. */
    public static InputStream decrypt(InputStream in, List<String> identities) throws IOException {
        return decrypt(in, identities, null, "this backup");
    }

    /**
     * Wraps {@code out}: what is written is encrypted with the passphrase (an scrypt stanza at {@code workFactor},
     * the only stanza of the header). Closing finishes the age stream.
     */
    public static OutputStream encrypt(OutputStream out, Passphrase passphrase, int workFactor) throws IOException {
        try {
            return Channels.newOutputStream(new StandardEncryptingChannelFactory().newEncryptingChannel(
                    Channels.newChannel(out), List.of(ScryptStanza.writer(passphrase, workFactor))));
        } catch (ScryptStanza.InsufficientMemoryException e) {
            throw StowageException.usage("cannot encrypt with the passphrase: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new StowageException("cannot encrypt with the passphrase: " + e.getMessage());
        }
    }

    /** Wraps {@code in}: reads the plaintext of a passphrase-protected age stream. */
    public static InputStream decrypt(InputStream in, Passphrase passphrase) throws IOException {
        return decrypt(in, List.of(), passphrase, "this backup");
    }

    /**
     * Wraps {@code in}: reads the plaintext of an age stream with any of the identities and the passphrase (either
     * may be absent). A failure is one line naming {@code what} (for example "backup 20261121T020000Z-F of job
     * postgres") and which keys were tried; never the keys themselves.
     */
    static InputStream decrypt(InputStream in, List<String> identities, Passphrase passphrase, String what)
            throws IOException {
        List<RecipientStanzaReader> readers = new ArrayList<>();
        try {
            for (String identity : identities) {
                readers.add(ScryptStanza.alone(X25519RecipientStanzaReaderFactory.newRecipientStanzaReader(identity)));
            }
        } catch (GeneralSecurityException e) {
            throw new StowageException("cannot decrypt " + what + ": an identity in AGE_IDENTITY_FILE is not a valid "
                    + "age secret key");
        }
        if (passphrase != null) {
            readers.add(ScryptStanza.reader(passphrase));
        }
        try {
            return Channels.newInputStream(new StandardDecryptingChannelFactory()
                    .newDecryptingChannel(Channels.newChannel(in), readers));
        } catch (GeneralSecurityException e) {
            throw new StowageException("cannot decrypt " + what + ": " + reason(e, !identities.isEmpty(),
                    passphrase != null));
        }
    }

    /** Why no configured key opened the stream, in the operator's terms. */
    private static String reason(GeneralSecurityException e, boolean identities, boolean passphrase) {
        List<GeneralSecurityException> causes = new ArrayList<>();
        causes.add(e);
        for (Throwable suppressed : e.getSuppressed()) {
            if (suppressed instanceof GeneralSecurityException g) {
                causes.add(g);
            }
        }
        for (Class<?> kind : List.of(ScryptStanza.IncorrectPassphraseException.class,
                ScryptStanza.InsufficientMemoryException.class, ScryptStanza.MalformedException.class,
                ScryptStanza.PassphraseProtectedException.class)) {
            for (GeneralSecurityException cause : causes) {
                if (kind.isInstance(cause)) {
                    return cause.getMessage();
                }
            }
        }
        if (passphrase && !identities) {
            return causes.stream().anyMatch(ScryptStanza.NotPassphraseProtectedException.class::isInstance)
                    ? "it is not passphrase-protected: it was encrypted to age keys; HINT: set AGE_IDENTITY_FILE to "
                            + "an identity it was encrypted to"
                    : "the passphrase in AGE_PASSPHRASE_FILE cannot read it (" + e.getMessage() + ")";
        }
        if (identities && passphrase) {
            return "neither the identities in AGE_IDENTITY_FILE nor the passphrase in AGE_PASSPHRASE_FILE can read "
                    + "it (" + e.getMessage() + ")";
        }
        return "none of the identities in AGE_IDENTITY_FILE can read it (" + e.getMessage() + ")";
    }
}
