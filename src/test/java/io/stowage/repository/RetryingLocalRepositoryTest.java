package io.stowage.repository;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The repository contract, run against a local repository wrapped for retries, as every configured one is. */
class RetryingLocalRepositoryTest extends RepositoryContract {
    @TempDir
    Path dir;

    private Repository repository;

    @BeforeEach
    void createRepository() {
        repository = new RetryingRepository(new LocalRepository("local", dir.resolve("backups")), 3,
                Duration.ofMillis(1));
    }

    @Override
    protected Repository repository() {
        return repository;
    }
}
