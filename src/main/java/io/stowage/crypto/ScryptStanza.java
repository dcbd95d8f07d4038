package io.stowage.crypto;

import com.exceptionfactory.jagged.FileKey;
import com.exceptionfactory.jagged.RecipientStanza;
import com.exceptionfactory.jagged.RecipientStanzaReader;
import com.exceptionfactory.jagged.RecipientStanzaWriter;
import com.exceptionfactory.jagged.UnsupportedRecipientStanzaException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.SCrypt;

/**
 * The age scrypt recipient stanza (age-encryption.org/v1, "scrypt recipient stanza"), as jagged stanza writer and
 * reader: {@code -> scrypt <salt> <log2 N>}, where salt is 16 random bytes (base64, no padding) and the body is the
 * 16-byte file key sealed with ChaCha20-Poly1305 (nonce zero) under
 * {@code scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, r = 8, p = 1, 32 bytes)}.
 *
 * <p>An scrypt stanza must be the only stanza of a header: a header that mixes it with others is refused. A work
 * factor above {@link #MAX_WORK_FACTOR} is refused when reading, as age does by default. One derivation needs
 * {@code 128 * r * N} bytes of heap (256 MiB at the default 2^18); derivations run one at a time in this process, so
 * parallel readers (WAL fetches) never need more than one such buffer.
 */
final class ScryptStanza {
    static final String TYPE = "scrypt";
    /** age's own default for new files: about a second of work. */
    static final int DEFAULT_WORK_FACTOR = 18;
    /** The highest work factor accepted when reading (age's default maximum, about 15 s and 4 GiB). */
    static final int MAX_WORK_FACTOR = 22;
    private static final byte[] LABEL = "age-encryption.org/v1/scrypt".getBytes(StandardCharsets.US_ASCII);
    private static final int SALT_BYTES = 16;
    private static final int FILE_KEY_BYTES = 16;
    private static final int BODY_BYTES = FILE_KEY_BYTES + 16;
    private static final int BLOCK_SIZE = 8;
    private static final Pattern DECIMAL = Pattern.compile("[1-9][0-9]?");
    private static final Object DERIVATION = new Object();
    private static final SecureRandom RANDOM = new SecureRandom();

    private ScryptStanza() {
    }

    /** The passphrase is wrong: the file key does not open under the derived key. */
    static final class IncorrectPassphraseException extends GeneralSecurityException {
        IncorrectPassphraseException() {
            super("the passphrase in AGE_PASSPHRASE_FILE does not unlock it");
        }
    }

    /** The header is not a passphrase-protected one: it holds no scrypt stanza. */
    static final class NotPassphraseProtectedException extends UnsupportedRecipientStanzaException {
        NotPassphraseProtectedException() {
            super("it is not passphrase-protected (its header holds no scrypt stanza)");
        }
    }

    /** The header breaks the format's rules for scrypt stanzas. */
    static final class MalformedException extends UnsupportedRecipientStanzaException {
        MalformedException(String message) {
            super(message);
        }
    }

    /** Seen by an identity (X25519) reader: the header holds only an scrypt stanza. */
    static final class PassphraseProtectedException extends UnsupportedRecipientStanzaException {
        PassphraseProtectedException() {
            super("it is passphrase-protected; HINT: set AGE_PASSPHRASE_FILE to a file holding its passphrase");
        }
    }

    /** The JVM may not use enough memory for the work factor. */
    static final class InsufficientMemoryException extends GeneralSecurityException {
        InsufficientMemoryException(String message) {
            super(message);
        }
    }

    /** Bytes of memory one derivation at this work factor needs: 128 * r * N. */
    static long memoryBytes(int workFactor) {
        return 128L * BLOCK_SIZE << workFactor;
    }

    static RecipientStanzaWriter writer(Passphrase passphrase, int workFactor) {
        if (workFactor < 1 || workFactor > MAX_WORK_FACTOR) {
            throw new IllegalArgumentException("scrypt work factor " + workFactor + " out of range");
        }
        return fileKey -> {
            byte[] salt = new byte[SALT_BYTES];
            RANDOM.nextBytes(salt);
            byte[] key = derive(passphrase, salt, workFactor);
            try {
                byte[] body = seal(Cipher.ENCRYPT_MODE, key, fileKey.getEncoded());
                String encodedSalt = Base64.getEncoder().withoutPadding().encodeToString(salt);
                return List.of(new Stanza(TYPE, List.of(encodedSalt, Integer.toString(workFactor)), body));
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        };
    }

    static RecipientStanzaReader reader(Passphrase passphrase) {
        return stanzas -> {
            List<RecipientStanza> all = new ArrayList<>();
            stanzas.forEach(all::add);
            checkAlone(all);
            if (all.isEmpty() || !TYPE.equals(all.get(0).getType())) {
                throw new NotPassphraseProtectedException();
            }
            RecipientStanza stanza = all.get(0);
            List<String> arguments = stanza.getArguments();
            if (arguments.size() != 2) {
                throw new MalformedException("its scrypt stanza has " + arguments.size()
                        + " arguments, not 2");
            }
            byte[] salt = decodeSalt(arguments.get(0));
            int workFactor = workFactor(arguments.get(1));
            byte[] body = stanza.getBody();
            if (body.length != BODY_BYTES) {
                throw new MalformedException("its scrypt stanza's body is " + body.length
                        + " bytes, not " + BODY_BYTES);
            }
            byte[] key = derive(passphrase, salt, workFactor);
            try {
                return new FileKey(seal(Cipher.DECRYPT_MODE, key, body));
            } catch (AEADBadTagException e) {
                throw new IncorrectPassphraseException();
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        };
    }

    /**
     * Wraps another reader (X25519 identities) with age's rule that an scrypt stanza is alone in its header, so a
     * header mixing a passphrase with keys is refused whichever key would read it.
     */
    static RecipientStanzaReader alone(RecipientStanzaReader reader) {
        return stanzas -> {
            List<RecipientStanza> all = new ArrayList<>();
            stanzas.forEach(all::add);
            checkAlone(all);
            if (all.size() == 1 && TYPE.equals(all.get(0).getType())) {
                throw new PassphraseProtectedException();
            }
            return reader.getFileKey(all);
        };
    }

    private static void checkAlone(List<RecipientStanza> stanzas) throws MalformedException {
        if (stanzas.size() > 1 && stanzas.stream().anyMatch(s -> TYPE.equals(s.getType()))) {
            throw new MalformedException("its header mixes an scrypt stanza with other stanzas, "
                    + "which age forbids");
        }
    }

    private static byte[] decodeSalt(String argument) throws MalformedException {
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(argument);
        } catch (IllegalArgumentException e) {
            throw new MalformedException("its scrypt salt is not base64");
        }
        // Canonical, unpadded base64 only: the same bytes must encode back to the same text.
        if (salt.length != SALT_BYTES
                || !Base64.getEncoder().withoutPadding().encodeToString(salt).equals(argument)) {
            throw new MalformedException("its scrypt salt is not 16 bytes in canonical base64");
        }
        return salt;
    }

    private static int workFactor(String argument) throws MalformedException {
        if (!DECIMAL.matcher(argument).matches()) {
            throw new MalformedException("its scrypt work factor '" + argument + "' is not valid");
        }
        int workFactor = Integer.parseInt(argument);
        if (workFactor > MAX_WORK_FACTOR) {
            throw new MalformedException("its scrypt work factor 2^" + workFactor
                    + " is above the accepted maximum 2^" + MAX_WORK_FACTOR);
        }
        return workFactor;
    }

    private static byte[] derive(Passphrase passphrase, byte[] salt, int workFactor)
            throws InsufficientMemoryException {
        long need = memoryBytes(workFactor);
        long max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && need > max) {
            throw insufficient(workFactor, need, max);
        }
        byte[] labelled = new byte[LABEL.length + salt.length];
        System.arraycopy(LABEL, 0, labelled, 0, LABEL.length);
        System.arraycopy(salt, 0, labelled, LABEL.length, salt.length);
        byte[] password = passphrase.bytes();
        try {
            synchronized (DERIVATION) {
                return SCrypt.generate(password, labelled, 1 << workFactor, BLOCK_SIZE, 1, 32);
            }
        } catch (OutOfMemoryError e) {
            throw insufficient(workFactor, need, max);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    private static InsufficientMemoryException insufficient(int workFactor, long need, long max) {
        return new InsufficientMemoryException("its scrypt work factor 2^" + workFactor + " needs " + (need >> 20)
                + " MiB of heap and the JVM has at most " + (max >> 20) + " MiB; HINT: raise it, for example "
                + "STOWAGE_JAVA_OPTS=-Xmx" + ((need >> 20) + 256) + "m");
    }

    private static byte[] seal(int mode, byte[] key, byte[] input) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("ChaCha20-Poly1305");
        cipher.init(mode, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(new byte[12]));
        return cipher.doFinal(input);
    }

    private record Stanza(String type, List<String> arguments, byte[] body) implements RecipientStanza {
        @Override
        public String getType() {
            return type;
        }

        @Override
        public List<String> getArguments() {
            return arguments;
        }

        @Override
        public byte[] getBody() {
            return body.clone();
        }
    }
}
