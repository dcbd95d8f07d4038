package io.stowage.repository;

import io.stowage.StowageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The repositories this configuration defines, in order of preference for reading: the local directory first (it
 * is fast and free), then S3 when a bucket is configured.
 */
public final class Repositories {
    public static final String LOCAL = "local";
    public static final String S3 = "s3";

    private final LocalRepository local;
    private final S3Repository s3;

    public Repositories(LocalRepository local, S3Repository s3) {
        this.local = local;
        this.s3 = s3;
    }

    public LocalRepository local() {
        return local;
    }

    public Optional<S3Repository> s3() {
        return Optional.ofNullable(s3);
    }

    public boolean isConfigured(String name) {
        return LOCAL.equals(name) || (S3.equals(name) && s3 != null);
    }

    public Repository get(String name) {
        if (LOCAL.equals(name)) {
            return local;
        }
        if (S3.equals(name)) {
            if (s3 == null) {
                throw StowageException.usage("repository 's3' is not configured; HINT: set STOWAGE_S3_BUCKET");
            }
            return s3;
        }
        throw StowageException.usage("unknown repository '" + name + "': use 'local' or 's3'");
    }

    public List<Repository> all() {
        List<Repository> all = new ArrayList<>();
        all.add(local);
        if (s3 != null) {
            all.add(s3);
        }
        return all;
    }
}
