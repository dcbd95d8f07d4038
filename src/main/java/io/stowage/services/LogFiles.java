package io.stowage.services;

import io.stowage.crypto.AgeKeys;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.Codec;
import io.stowage.repository.ChecksumFiles;
import io.stowage.repository.ObjectNotFoundException;
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
        return store(repositories, encryption, prefix, file, codec, level, checksum, new Progress());
    }

    /**
     * As {@link #store(List, AgeKeys, String, File, Codec, int, boolean)}, resuming {@code progress}: what an
     * earlier call for the same spooled file (same name, size and modification time) completed is not done again,
     * so a retry after a failed copy neither compresses the file again nor rewrites the copies that were made. A
     * progress made for another file (or another version of it) is started afresh.
     */
    public static long store(List<Repository> repositories, AgeKeys encryption, String prefix, File file, Codec codec,
                             int level, boolean checksum, Progress progress) throws IOException {
        progress.startOrResume(file);
        Repository first = repositories.get(0);
        if (!progress.done.contains(first.name())) {
            BackupStream stream = new BackupStream(new FileSource(file)).compress(codec, level, 0);
            if (encryption.encrypts()) {
                stream.encrypt(encryption);
            }
            stream.checksum();
            String key = prefix + stream.objectName();
            BackupStream.Result[] result = new BackupStream.Result[1];
            first.write(key, out -> result[0] = stream.writeTo(out));
            if (checksum) {
                byte[] line = ChecksumFiles.line(result[0].sha256(), stream.objectName())
                        .getBytes(StandardCharsets.US_ASCII);
                first.write(key + ChecksumFiles.EXTENSION, out -> out.write(line));
            }
            progress.key = key;
            progress.storedBytes = result[0].storedBytes();
            progress.done.clear();
            progress.done.add(first.name());
        }
        for (Repository repository : repositories) {
            if (progress.done.contains(repository.name())) {
                continue;
            }
            try {
                repository.copy(progress.key, first, null);
                if (checksum) {
                    repository.copy(progress.key + ChecksumFiles.EXTENSION, first, null);
                }
            } catch (ObjectNotFoundException e) {
                // The first copy went away between two attempts: the next attempt makes it again.
                progress.done.clear();
                throw e;
            }
            progress.done.add(repository.name());
        }
        return progress.storedBytes;
    }

    /**
     * How far the storing of one spooled file got: the repositories that hold its complete copy (object and
     * checksum file). Kept by the caller between attempts; not thread-safe (one shipping route per spool).
     */
    public static final class Progress {
        private String name;
        private long size = -1;
        private long modified = -1;
        private String key;
        private long storedBytes;
        private final java.util.Set<String> done = new java.util.HashSet<>();

        void startOrResume(File file) {
            long fileSize = file.length();
            long fileModified = file.lastModified();
            if (!file.getName().equals(name) || fileSize != size || fileModified != modified) {
                name = file.getName();
                size = fileSize;
                modified = fileModified;
                key = null;
                storedBytes = 0;
                done.clear();
            }
        }
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
