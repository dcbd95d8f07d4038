package io.stowage.crypto;

import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The age keys Stowage is configured with: X25519 recipients that new backups are encrypted to (AGE_RECIPIENTS) and
 * the identity file restores read (AGE_IDENTITY_FILE); or, for small setups, one passphrase (AGE_PASSPHRASE_FILE)
 * that both encrypts and decrypts. A passphrase and recipients exclude each other, as in age itself, where an scrypt
 * stanza must be the only one of its file. An identity file may stay configured beside a passphrase, for the backups
 * taken before it.
 */
public final class AgeKeys {
    /** The lowest work factor accepted for new files: 2^10 is already far below age's default 2^18. */
    public static final int MIN_WORK_FACTOR = 10;

    private final List<String> recipients;
    private final Path identityFile;
    private final Passphrase passphrase;
    private final Path passphraseFile;
    private final int workFactor;

    private AgeKeys(List<String> recipients, Path identityFile, Passphrase passphrase, Path passphraseFile,
                    int workFactor) {
        this.recipients = List.copyOf(recipients);
        this.identityFile = identityFile;
        this.passphrase = passphrase;
        this.passphraseFile = passphraseFile;
        this.workFactor = workFactor;
    }

    /** Nothing configured: backups are not encrypted. */
    public static AgeKeys none() {
        return new AgeKeys(List.of(), null, null, null, ScryptStanza.DEFAULT_WORK_FACTOR);
    }

    /**
     * From the configuration's text values (null or blank: not set). Both recipients and a passphrase file, an
     * unreadable passphrase file, or a work factor out of range are usage errors.
     */
    public static AgeKeys configure(String recipients, String identityFile, String passphraseFile,
                                    String workFactor) {
        List<String> keys = AgeEncryption.recipients(recipients);
        Path identity = blank(identityFile) ? null : Path.of(identityFile.strip());
        int factor = ScryptStanza.DEFAULT_WORK_FACTOR;
        if (!blank(workFactor)) {
            try {
                factor = Integer.parseInt(workFactor.strip());
            } catch (NumberFormatException e) {
                factor = -1;
            }
            if (factor < MIN_WORK_FACTOR || factor > ScryptStanza.MAX_WORK_FACTOR) {
                throw StowageException.usage("passphrase work factor '" + workFactor.strip() + "' is not a whole "
                        + "number from " + MIN_WORK_FACTOR + " to " + ScryptStanza.MAX_WORK_FACTOR
                        + " (log2 of scrypt's N); HINT: fix AGE_PASSPHRASE_WORK_FACTOR, or unset it for "
                        + ScryptStanza.DEFAULT_WORK_FACTOR);
            }
        }
        if (blank(passphraseFile)) {
            return new AgeKeys(keys, identity, null, null, factor);
        }
        if (!keys.isEmpty()) {
            throw StowageException.usage("both AGE_RECIPIENTS and AGE_PASSPHRASE_FILE are set: a backup is encrypted "
                    + "either to age keys or with a passphrase, not both; HINT: unset one of them");
        }
        Path file = Path.of(passphraseFile.strip());
        return new AgeKeys(keys, identity, Passphrase.read(file), file, factor);
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    /** Whether new backups are encrypted. */
    public boolean encrypts() {
        return !recipients.isEmpty() || passphrase != null;
    }

    /** The X25519 recipients new backups are encrypted to; empty with a passphrase or no encryption. */
    public List<String> recipients() {
        return recipients;
    }

    /** Whether a passphrase is configured (new backups are then encrypted with it). */
    public boolean passphrase() {
        return passphrase != null;
    }

    /** The file the passphrase was read from, or null. */
    public Path passphraseFile() {
        return passphraseFile;
    }

    /** The identity file restores read, or null. */
    public Path identityFile() {
        return identityFile;
    }

    /**
     * The key files (passphrase, identity) that other users than Stowage's may read, one warning each with the
     * command that fixes it. A file that cannot be read at all is reported where it is read.
     */
    public List<String> exposedKeyFiles() {
        List<String> warnings = new java.util.ArrayList<>();
        exposed("passphrase file", passphraseFile, warnings);
        exposed("age identity file", identityFile, warnings);
        return warnings;
    }

    private static void exposed(String what, Path file, List<String> warnings) {
        if (file == null) {
            return;
        }
        try {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions =
                    java.nio.file.Files.getPosixFilePermissions(file);
            if (permissions.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                warnings.add(what + " " + file + " is readable by others ("
                        + java.nio.file.attribute.PosixFilePermissions.toString(permissions) + "); HINT: chmod 600 "
                        + file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Missing or unreadable: the restore that reads it says so; no POSIX permissions: nothing to warn about.
        }
    }

    /** The scrypt work factor (log2 N) of new passphrase-protected files. */
    public int workFactor() {
        return workFactor;
    }

    /** Heap bytes one passphrase key derivation at the configured work factor needs. */
    public long derivationMemoryBytes() {
        return ScryptStanza.memoryBytes(workFactor);
    }

    /** Wraps {@code out} in an age stream to the recipients, or with the passphrase. */
    public OutputStream encrypt(OutputStream out) throws IOException {
        if (passphrase != null) {
            return AgeEncryption.encrypt(out, passphrase, workFactor);
        }
        if (recipients.isEmpty()) {
            throw new IllegalStateException("no age recipients or passphrase configured");
        }
        return AgeEncryption.encrypt(out, recipients);
    }

    /**
     * Fails, before anything is read or written, when the key a backup needs is not configured:
     * {@code passphraseProtected} from its manifest.
     */
    public void requireKeyFor(boolean passphraseProtected, String what) {
        if (passphraseProtected && passphrase == null) {
            throw new StowageException(what + " is passphrase-protected and no passphrase is configured; HINT: set "
                    + "AGE_PASSPHRASE_FILE to a file holding its passphrase (without AGE_RECIPIENTS)");
        }
        if (!passphraseProtected) {
            AgeEncryption.identities(identityFile);
        }
    }

    /** Wraps {@code in}: the plaintext of a backup's object, with the key its manifest says it needs. */
    public InputStream decrypt(InputStream in, boolean passphraseProtected, String what) throws IOException {
        requireKeyFor(passphraseProtected, what);
        return passphraseProtected ? AgeEncryption.decrypt(in, List.of(), passphrase, what)
                : AgeEncryption.decrypt(in, AgeEncryption.identities(identityFile), null, what);
    }

    /** Wraps {@code in}: the plaintext of an age file without a manifest (WAL), with every configured key. */
    public InputStream decryptAny(InputStream in, String what) throws IOException {
        if (identityFile == null && passphrase == null) {
            throw new StowageException(what + " is encrypted and no identity or passphrase is configured; HINT: set "
                    + "AGE_IDENTITY_FILE (or AGE_PASSPHRASE_FILE for passphrase-protected files)");
        }
        List<String> identities = identityFile == null ? List.of() : AgeEncryption.identities(identityFile);
        return AgeEncryption.decrypt(in, identities, passphrase, what);
    }
}
