package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.engine.postgresql.WalNames;
import io.stowage.engine.postgresql.WalObject;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.Codec;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repository;
import io.stowage.services.StowageServices;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:wal-ship?job=NAME&codec=zstd&level=1}: stores one spooled WAL file (a segment or a timeline history
 * file, the body) compressed under {@code <job>/wal/} in the local repository, then copies it to every other
 * repository, each followed by its {@code .sha256} checksum file. It returns only when every copy is written; the file consumer deletes the spooled file after that,
 * and leaves it for the next poll when anything failed, so no WAL is deleted before its copies are confirmed.
 */
final class WalShipStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(WalShipStep.class);

    private final String job;
    private final Codec codec;
    private final int level;
    private volatile boolean cleaned;

    WalShipStep(Map<String, String> parameters) {
        job = Steps.required(parameters, "job", "wal-ship");
        codec = Codec.of(parameters.getOrDefault("codec", "zstd"));
        level = codec.level(parameters.remove("level"));
        parameters.remove("codec");
        Steps.noParameters(parameters, "wal-ship");
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        File file = exchange.getIn().getBody(File.class);
        if (file == null) {
            throw StowageException.usage("stowage:wal-ship needs a file body: use it after a file: consumer");
        }
        if (!cleaned) {
            // The file consumer is this route's only writer: temporaries left in <job>/wal/ are from a killed run.
            services.repositories().local().cleanUpInterruptedWrites(job + "/wal/");
            cleaned = true;
        }
        String name = file.getName();
        if (!WalNames.isSegment(name) && !WalNames.isHistory(name) && !WalNames.isBackupHistory(name)) {
            LOG.warn("ignoring {} in the WAL spool of job {}: not a WAL segment or history file", name, job);
            return;
        }
        long stored = store(services, job, file, codec, level, true);
        services.metrics().walArchived(job, stored);
        LOG.debug("archived {} of job {}", name, job);
    }

    /**
     * Stores a spooled file compressed (and encrypted when configured) as {@code <job>/wal/<name><codec>[.age]} in the
     * local repository, then copies it to every other repository; with {@code checksum}, each object is followed by
     * its {@code .sha256} file (a sha256sum line, written after the object, so a checksum file always describes a
     * complete object; restore and verify re-hash every WAL object they read against it). Returns the bytes stored.
     */
    static long store(StowageServices services, String job, File file, Codec codec, int level, boolean checksum)
            throws IOException {
        return storeUnder(services, job + "/wal/", file, codec, level, checksum);
    }

    /** As {@link #store}, under another key prefix (ending in '/'). */
    static long storeUnder(StowageServices services, String prefix, File file, Codec codec, int level,
                           boolean checksum) throws IOException {
        BackupStream stream = new BackupStream(new FileSource(file)).compress(codec, level, 0);
        if (services.encryption().encrypts()) {
            stream.encrypt(services.encryption());
        }
        stream.checksum();
        String key = prefix + stream.objectName();
        String checksumKey = key + WalObject.CHECKSUM_EXTENSION;
        LocalRepository local = services.repositories().local();
        BackupStream.Result[] result = new BackupStream.Result[1];
        local.write(key, out -> result[0] = stream.writeTo(out));
        if (checksum) {
            byte[] line = WalObject.checksumLine(result[0].sha256(), stream.objectName())
                    .getBytes(StandardCharsets.US_ASCII);
            local.write(checksumKey, out -> out.write(line));
        }
        for (Repository repository : services.repositories().all()) {
            if (repository != local) {
                repository.upload(key, local.file(key));
                if (checksum) {
                    repository.upload(checksumKey, local.file(checksumKey));
                }
            }
        }
        return Files.size(local.file(key));
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
