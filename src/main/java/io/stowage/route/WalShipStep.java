package io.stowage.route;

import io.stowage.StowageException;
import io.stowage.engine.postgresql.WalNames;
import io.stowage.engine.postgresql.WalObject;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.Codec;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageServices;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code stowage:wal-ship?job=NAME&codec=zstd&level=1&repositories=}: stores one spooled WAL file (a segment or a
 * timeline history file, the body) compressed under {@code <job>/wal/} in the first of the job's repositories, then
 * copies it to each other one, each followed by its {@code .sha256} checksum file. The repositories are those
 * {@code repositories} names; blank: those of the backup job of the same name, or every repository. It returns only
 * when every copy is written; the file consumer deletes the spooled file after that, and leaves it for the next poll
 * when anything failed, so no WAL is deleted before its copies are confirmed.
 */
final class WalShipStep implements Step {
    private static final Logger LOG = LoggerFactory.getLogger(WalShipStep.class);

    private final String job;
    private final Codec codec;
    private final int level;
    private final String repositories;
    private volatile boolean cleaned;

    WalShipStep(Map<String, String> parameters) {
        job = Steps.required(parameters, "job", "wal-ship");
        codec = Codec.of(parameters.getOrDefault("codec", "zstd"));
        level = codec.level(parameters.remove("level"));
        parameters.remove("codec");
        String named = parameters.remove("repositories");
        repositories = named == null ? "" : named.strip();
        Steps.noParameters(parameters, "wal-ship");
    }

    @Override
    public void check(StowageServices services) {
        if (services != null && !repositories.isEmpty()) {
            repositories(services, job, repositories);
        }
    }

    @Override
    public void process(Exchange exchange, StowageServices services) throws Exception {
        File file = exchange.getIn().getBody(File.class);
        if (file == null) {
            throw StowageException.usage("stowage:wal-ship needs a file body: use it after a file: consumer");
        }
        if (!cleaned) {
            // The file consumer is this route's only writer: temporaries left in <job>/wal/ are from a killed run.
            repositories(services, job, repositories).get(0).cleanUpInterruptedWrites(job + "/wal/");
            cleaned = true;
        }
        String name = file.getName();
        if (!WalNames.isSegment(name) && !WalNames.isHistory(name) && !WalNames.isBackupHistory(name)) {
            LOG.warn("ignoring {} in the WAL spool of job {}: not a WAL segment or history file", name, job);
            return;
        }
        long stored = store(services, repositories(services, job, repositories), job, file, codec, level, true);
        services.metrics().walArchived(job, stored);
        LOG.debug("archived {} of job {}", name, job);
    }

    /**
     * The repositories a job's WAL goes to, in the configured order: those {@code named} names (comma-separated);
     * blank: those of the backup job called {@code job} (its {@code repositories} parameter), or every repository
     * when no backup job has that name.
     */
    static List<Repository> repositories(StowageServices services, String job, String named) {
        if (named != null && !named.isBlank()) {
            return services.repositories().forJob(new io.stowage.job.Job(job, "", "", "wal-" + job,
                    Map.of("repositories", named)));
        }
        io.stowage.job.JobRegistry jobs = services.jobs();
        if (jobs != null && jobs.all().stream().anyMatch(j -> j.name().equals(job))) {
            return services.repositories().forJob(jobs.get(job));
        }
        return services.repositories().all();
    }

    /**
     * Stores a spooled file compressed (and encrypted when configured) as {@code <job>/wal/<name><codec>[.age]} in the
     * first of {@code repositories}, then copies it to each other one; with {@code checksum}, each object is followed
     * by its {@code .sha256} file (a sha256sum line, written after the object, so a checksum file always describes a
     * complete object; restore and verify re-hash every WAL object they read against it). Returns the bytes stored.
     */
    static long store(StowageServices services, List<Repository> repositories, String job, File file, Codec codec,
                      int level, boolean checksum) throws IOException {
        return storeUnder(services, repositories, job + "/wal/", file, codec, level, checksum);
    }

    /** As {@link #store}, under another key prefix (ending in '/'). */
    static long storeUnder(StowageServices services, List<Repository> repositories, String prefix, File file,
                           Codec codec, int level, boolean checksum) throws IOException {
        BackupStream stream = new BackupStream(new FileSource(file)).compress(codec, level, 0);
        if (services.encryption().encrypts()) {
            stream.encrypt(services.encryption());
        }
        stream.checksum();
        String key = prefix + stream.objectName();
        String checksumKey = key + WalObject.CHECKSUM_EXTENSION;
        Repository first = repositories.get(0);
        BackupStream.Result[] result = new BackupStream.Result[1];
        first.write(key, out -> result[0] = stream.writeTo(out));
        if (checksum) {
            byte[] line = WalObject.checksumLine(result[0].sha256(), stream.objectName())
                    .getBytes(StandardCharsets.US_ASCII);
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
