package io.stowage.repository;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository contract, run against a second local repository ({@code nas}) beside a first one, each wrapped for
 * retries as configured: the two never see each other's objects.
 */
class SecondLocalRepositoryTest extends RepositoryContract {
    @TempDir
    Path dir;

    private Repository first;
    private Repository second;

    @BeforeEach
    void createRepositories() {
        first = new RetryingRepository(new LocalRepository("local", dir.resolve("backups")), 3, Duration.ofMillis(1));
        second = new RetryingRepository(new LocalRepository("nas", dir.resolve("nas")), 3, Duration.ofMillis(1));
    }

    @Override
    protected Repository repository() {
        return second;
    }

    @Test
    void should_keep_the_objects_of_two_local_repositories_apart_and_copy_between_them() throws IOException {
        first.write("job/20261121T020000Z-F/manifest.json", out -> out.write("{}".getBytes(UTF_8)));

        assertThat(second.list("")).isEmpty();
        second.copy("job/20261121T020000Z-F/manifest.json", first, null);

        assertThat(read(second, "job/20261121T020000Z-F/manifest.json")).asString(UTF_8).isEqualTo("{}");
        assertThat(second.localFile("job/20261121T020000Z-F/manifest.json")).get()
                .isEqualTo(dir.resolve("nas/job/20261121T020000Z-F/manifest.json"));
    }
}
