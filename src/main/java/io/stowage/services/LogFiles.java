package io.stowage.services;

import io.stowage.crypto.AgeKeys;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.Codec;
import io.stowage.repository.ChecksumFiles;
import io.stowage.repository.Repository;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

/**
 * Storing one spooled log file (a WAL segment, a binlog) in a job's repositories: compressed, encrypted when
 * configured, written to the first of a job's repositories, then copied to each other one, each object followed by its
 * {@code .sha256} checksum file (written after the object, so a checksum file always describes a complete object).
 * It returns only when every copy is written: the caller may then delete the spooled file.
 */
public final class LogFiles {
    private LogFiles() {
    }

    /**
     * Stores {@code file} as {@code <prefix><name><codec>[.age]} in the first of {@code repositories}, then copies it
     * to each other one; the bytes stored.
     */
    public static long store(List<Repository> repositories, AgeKeys encryption, String prefix, File file, Codec codec,
                             int level, boolean checksum) throws IOException {
        BackupStream stream = new BackupStream(new FileSource(file)).compress(codec, level, 0);
        if (encryption.encrypts()) {
            stream.encrypt(encryption);
        }
        stream.checksum();
        String key = prefix + stream.objectName();
        String checksumKey = key + ChecksumFiles.EXTENSION;
        Repository first = repositories.get(0);
        BackupStream.Result[] result = new BackupStream.Result[1];
        first.write(key, out -> result[0] = stream.writeTo(out));
        if (checksum) {
            byte[] line = ChecksumFiles.line(result[0].sha256(), stream.objectName()).getBytes(StandardCharsets.US_ASCII);
            first.write(checksumKey, out -> out.write(line));
        }
        for (Repository repository : repositories) {
            if (repository != first) {
                repository.copy(key, first, null);
                if (checksum) {
                    repository.copy(checksumKey, first, null);
                }
            }
        }
        return result[0].storedBytes();
    }

    /** A spooled file as a backup stream source. */
    private static final class FileSource implements BackupStream.Source {
        private final File file;

        FileSource(File file) {
            this.file = file;
        }

        @Override
        public InputStream open() {
            try {
                return Files.newInputStream(file.toPath());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void finish() {
        }

        @Override
        public String objectName() {
            return file.getName();
        }

        @Override
        public void close() {
        }
    }
}
