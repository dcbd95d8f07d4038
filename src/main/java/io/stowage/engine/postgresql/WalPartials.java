package io.stowage.engine.postgresql;

import io.stowage.pipeline.Codec;
import io.stowage.repository.Repository;
import io.stowage.engine.EngineContext;
import io.stowage.job.Job;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For a WAL route whose spool pg_receivewal fills: every {@code partialSeconds}, the segment still being received
 * ({@code <segment>.partial} in the spool) is copied, compressed and encrypted like any WAL file, to every repository
 * as {@code <job>/wal-partial/<segment>.partial.zst[.age]}, overwriting the previous copy; once the complete segment is in
 * the local repository, the partial copies are removed. So the repositories, S3 included, are at most that many
 * seconds behind the server, not a whole segment; a restore uses a partial copy only for a segment that has no
 * complete one. It never touches the spool: the WAL route ships and deletes complete segments as before.
 */
final class WalPartials implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalPartials.class);

    private final EngineContext services;
    private final Job job;
    private final Path spool;
    private final java.time.Duration interval;
    private final Codec codec;
    private final int level;
    private final ScheduledExecutorService scheduler;
    /** Partial copies made, by key, with the (size, modification time) of the spooled file they were made from. */
    private final Map<String, String> shipped = new HashMap<>();

    WalPartials(EngineContext services, Job job, Path spool, String codec, String level, java.time.Duration interval) {
        this.services = services;
        this.job = job;
        this.spool = spool;
        this.interval = interval;
        this.codec = Codec.of(codec);
        this.level = this.codec.level(level);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "wal-partials-" + job.name());
            thread.setDaemon(true);
            return thread;
        });
    }

    WalPartials start() {
        // Partial copies an earlier run left: removed like this run's once their segment is complete.
        try {
            for (String name : repositories().get(0).children(prefix())) {
                WalObject.parse(name).filter(WalObject::partial).ifPresent(o -> shipped.put(prefix() + name, ""));
            }
        } catch (IOException e) {
            LOG.warn("cannot list the WAL of job {} for partial copies: {}", job.name(), e.getMessage());
        }
        long every = interval.toMillis();
        scheduler.scheduleWithFixedDelay(this::shipOnce, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    /** One pass: copies the partial segment if it changed, removes copies of segments now complete. */
    void shipOnce() {
        try {
            Path newest = null;
            if (Files.isDirectory(spool)) {
                try (Stream<Path> files = Files.list(spool)) {
                    newest = files.filter(f -> isPartialSegment(f.getFileName().toString()))
                            .max(Path::compareTo).orElse(null);
                }
            }
            if (newest != null) {
                String segment = segmentOf(newest.getFileName().toString());
                String key = prefix() + segment + WalObject.PARTIAL_EXTENSION + codec.extension()
                        + (services.encryption().encrypts() ? io.stowage.crypto.AgeEncryption.EXTENSION : "");
                String state = Files.size(newest) + "/" + Files.getLastModifiedTime(newest).toMillis();
                if (!complete(segment) && !state.equals(shipped.get(key))) {
                    // Read while pg_receivewal writes on: what is read is a prefix of the segment, and replay
                    // stops at its last whole record.
                    services.storeFile(job, prefix(), newest.toFile(), codec, level, false);
                    shipped.put(key, state);
                    LOG.debug("copied the partial segment {} of job {}", segment, job.name());
                }
            }
            removeCompleted();
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot copy the partial WAL segment of job {} to the repositories: {}; tried again in {} s",
                    job.name(), e.getMessage(), interval.toSeconds());
        }
    }

    private String prefix() {
        return WalObject.partialPrefix(job.name());
    }

    /** The job's WAL repositories, in order: the first is where complete segments are looked for. */
    private List<Repository> repositories() {
        return services.logRepositories(job);
    }

    private boolean complete(String segment) throws IOException {
        return complete(repositories().get(0), segment);
    }

    private boolean complete(Repository repository, String segment) throws IOException {
        String base = job.name() + "/wal/" + segment + codec.extension();
        return repository.exists(base) || repository.exists(base + io.stowage.crypto.AgeEncryption.EXTENSION);
    }

    /**
     * Removes each partial copy from each repository that holds the complete segment: a repository whose copy of the
     * segment failed keeps its partial, the newest WAL it has, until the segment reaches it.
     */
    private void removeCompleted() throws IOException {
        for (Iterator<String> keys = shipped.keySet().iterator(); keys.hasNext(); ) {
            String key = keys.next();
            String segment = key.substring(key.lastIndexOf('/') + 1, key.lastIndexOf('/') + 25);
            boolean everywhere = true;
            for (Repository repository : repositories()) {
                if (complete(repository, segment)) {
                    repository.delete(key);
                } else {
                    everywhere = false;
                }
            }
            if (everywhere) {
                keys.remove();
            }
        }
    }

    private static boolean isPartialSegment(String name) {
        return name.endsWith(WalObject.PARTIAL_EXTENSION) && WalNames.isSegment(segmentOf(name));
    }

    private static String segmentOf(String name) {
        return name.substring(0, name.length() - WalObject.PARTIAL_EXTENSION.length());
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
