package io.stowage.engine.redis;

import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.Catalog;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.crypto.AgeKeys;
import io.stowage.engine.BackupRequest;
import io.stowage.engine.BackupSource;
import io.stowage.engine.EngineContext;
import io.stowage.job.Job;
import io.stowage.pipeline.BackupStream;
import io.stowage.pipeline.Codec;
import io.stowage.repository.LocalRepository;
import io.stowage.repository.Repository;
import io.stowage.testing.ThrowawayRedis;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/** What the Redis engine's tests share: a job on a throwaway server, a context over a real local repository, a backup. */
final class RedisTesting {
    private RedisTesting() {
    }

    static Job job(ThrowawayRedis redis, String password, Map<String, String> more) {
        Map<String, String> parameters = new HashMap<>();
        parameters.put("host", redis.host());
        parameters.put("port", Integer.toString(redis.port()));
        if (password != null) {
            parameters.put("password", password);
        }
        parameters.putAll(more);
        return new Job("cache", RedisEngine.NAME, RedisEngine.METHOD, "cache", parameters);
    }

    /** An engine context over one local repository, a scratch directory, no encryption; warnings collected. */
    static final class Context implements EngineContext {
        final LocalRepository repository;
        final Path scratch;
        final List<String> warnings = new ArrayList<>();
        AgeKeys encryption = AgeKeys.none();

        Context(Path root) {
            this.repository = new LocalRepository("local", root.resolve("repository"));
            this.scratch = root.resolve("scratch");
        }

        @Override
        public List<Repository> repositories() {
            return List.of(repository);
        }

        @Override
        public List<Repository> repositories(Job job) {
            return List.of(repository);
        }

        @Override
        public LocalRepository home() {
            return repository;
        }

        @Override
        public List<Repository> logRepositories(Job job) {
            return List.of(repository);
        }

        @Override
        public Map<String, String> logArchiveParameters(Job job) {
            return Map.of();
        }

        @Override
        public long storeFile(Job job, String prefix, java.io.File file, Codec codec, int level, boolean checksum)
                throws IOException {
            return io.stowage.services.LogFiles.store(List.of(repository), encryption, prefix, file, codec, level,
                    checksum);
        }

        @Override
        public Catalog catalog() {
            return new Catalog(List.of(repository));
        }

        @Override
        public AgeKeys encryption() {
            return encryption;
        }

        @Override
        public Path scratchRoot() {
            return scratch;
        }

        @Override
        public Consumer<String> warnings() {
            return warnings::add;
        }
    }

    /** A backup taken as the pipeline takes it (source, zstd, SHA-256, store, manifest last), with its details. */
    record Taken(CatalogEntry entry, BackupStream.Result result, Map<String, Object> details, BackupSource source) {
    }

    static Taken backup(RedisEngine engine, Job job, Context context) throws IOException {
        Instant started = Instant.now();
        String id = BackupId.of(started, BackupType.FULL);
        BackupSource source = engine.openSource(job, RedisEngine.METHOD, new BackupRequest(id, BackupType.FULL, null,
                context.warnings()), context);
        BackupStream stream = source.stream().compress(Codec.ZSTD, 3, 1);
        if (context.encryption.encrypts()) {
            stream.encrypt(context.encryption);
        }
        stream.checksum();
        BackupStream.Result[] result = new BackupStream.Result[1];
        context.repository.write(Catalog.objectKey(job.name(), id, stream.objectName()),
                out -> result[0] = stream.writeTo(out));
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, id, job.name(), RedisEngine.NAME, BackupType.FULL,
                RedisEngine.METHOD, null, started, Instant.now(), result[0].rawBytes(), result[0].storedBytes(),
                new Manifest.Compression("zstd", 3), context.encryption.encrypts() ? new Manifest.Encryption("age",
                        stream.recipients(), stream.passphrase()) : null,
                List.of(new Manifest.StoredObject(result[0].objectName(), result[0].rawBytes(),
                        result[0].storedBytes(), result[0].sha256())),
                new Manifest.Tool(source.toolName(), source.toolVersion()),
                new Manifest.Server(source.serverVersion(), source.serverDetails()), null,
                ManifestCodec.JSON.valueToTree(source.details()));
        byte[] json = ManifestCodec.write(manifest);
        context.repository.write(Catalog.manifestKey(job.name(), id), out -> out.write(json));
        CatalogEntry entry = context.catalog().find(job.name(), id, context.warnings());
        return new Taken(entry, result[0], source.details(), source);
    }
}
