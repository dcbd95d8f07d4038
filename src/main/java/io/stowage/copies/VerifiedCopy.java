package io.stowage.copies;

import io.stowage.StowageException;
import io.stowage.repository.ObjectNotFoundException;
import io.stowage.repository.Repository;
import io.stowage.repository.RepositoryException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * One object copied from a repository to another through {@link Repository#copyStream}, proven on the way: the
 * source's bytes are hashed as they pass, and when the stream ends with a SHA-256 other than the expected one the
 * read fails before the writer returns, so the target's atomic write stores nothing. A damaged copy is never
 * propagated, and the source is read once.
 */
final class VerifiedCopy {
    private VerifiedCopy() {
    }

    /** The source's copy does not hash as its manifest or checksum file says. */
    static class Damaged extends StowageException {
        Damaged(String message) {
            super(message);
        }
    }

    /**
     * The source's copy lacks the object: that copy is damaged (the repository answered), so the next repository
     * holding it is tried, and the source stays usable for everything else.
     */
    static final class Missing extends Damaged {
        Missing(Repository source, String key) {
            super("'" + key + "' is missing in repository '" + source.name() + "'; it is not copied from there");
        }
    }

    /** Reading the source failed (not the target): the source's repository does not answer. */
    static final class SourceFailed extends RepositoryException {
        SourceFailed(Repository source, String key, Throwable cause) {
            super("cannot read '" + key + "' in repository '" + source.name() + "': " + io.stowage.Failures
                    .describe(cause), cause, io.stowage.Failures.isTransient(cause));
        }
    }

    /**
     * Copies {@code key} from {@code source} to {@code target} in {@code storageClass} (null: the default), failing
     * with {@link Damaged} when its SHA-256 is not {@code sha256} (null: not checked), with {@link SourceFailed} when
     * the source cannot be read, and with the target's {@link RepositoryException} otherwise.
     */
    static void copy(Repository source, Repository target, String key, String sha256, String storageClass)
            throws IOException {
        target.copyStream(key, new Checking(source, sha256), storageClass);
    }

    /** The source as {@link Repository#copyStream} reads it: {@code open} only, through the hash. */
    private static final class Checking implements Repository {
        private final Repository source;
        private final String sha256;

        Checking(Repository source, String sha256) {
            this.source = source;
            this.sha256 = sha256;
        }

        @Override
        public InputStream open(String key) throws IOException {
            InputStream in;
            try {
                in = source.open(key);
            } catch (ObjectNotFoundException e) {
                throw new Missing(source, key);
            } catch (IOException | RuntimeException e) {
                throw new SourceFailed(source, key, e);
            }
            return new HashingStream(in, source, key, sha256);
        }

        @Override
        public String name() {
            return source.name();
        }

        @Override
        public String location() {
            return source.location();
        }

        @Override
        public long write(String key, ObjectWriter writer) {
            throw new UnsupportedOperationException("read only");
        }

        @Override
        public void upload(String key, Path file) {
            throw new UnsupportedOperationException("read only");
        }

        @Override
        public Optional<Path> localFile(String key) {
            return Optional.empty();
        }

        @Override
        public boolean exists(String key) throws IOException {
            return source.exists(key);
        }

        @Override
        public List<String> list(String prefix) throws IOException {
            return source.list(prefix);
        }

        @Override
        public List<String> children(String directory) throws IOException {
            return source.children(directory);
        }

        @Override
        public void delete(String key) {
            throw new UnsupportedOperationException("read only");
        }

        @Override
        public void check() throws IOException {
            source.check();
        }
    }

    /** Hashes what passes; at the end, fails unless the hash is the expected one. */
    private static final class HashingStream extends FilterInputStream {
        private final MessageDigest digest;
        private final Repository source;
        private final String key;
        private final String expected;
        private boolean checked;

        HashingStream(InputStream in, Repository source, String key, String expected) {
            super(in);
            this.source = source;
            this.key = key;
            this.expected = expected;
            try {
                digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            io.stowage.Interruption.check();
            int n;
            try {
                n = in.read(b, off, len);
            } catch (IOException | RuntimeException e) {
                throw new SourceFailed(source, key, e);
            }
            if (n > 0) {
                digest.update(b, off, n);
            } else if (n == -1 && !checked) {
                checked = true;
                String actual = HexFormat.of().formatHex(digest.digest());
                if (expected != null && !expected.equalsIgnoreCase(actual)) {
                    throw new Damaged("'" + key + "' in repository '" + source.name() + "' is damaged: its SHA-256 is "
                            + actual + ", not " + expected + " as recorded; it is not copied");
                }
            }
            return n;
        }

        @Override
        public long skip(long n) {
            return 0;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
