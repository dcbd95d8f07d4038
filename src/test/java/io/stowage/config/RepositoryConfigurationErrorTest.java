package io.stowage.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.stowage.testing.S3TestServer;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad named repositories ({@code stowage.repositories}) stop check and backup at once: one line naming the file and
 * the key, with the fix, exit 2.
 */
class RepositoryConfigurationErrorTest {
    @TempDir
    Path dir;

    private Path config() {
        return dir.resolve("application.properties");
    }

    /** A workspace with local and s3 (the in-JVM server) named, and whatever a test adds. */
    private Workspace named(String list) throws Exception {
        return new Workspace(dir).s3(S3TestServer.get().createBucket(), "")
                .property("stowage.repositories", list)
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.s3.type", "s3");
    }

    private static void assertUsageError(Workspace.Result result, String... fragments) {
        assertThat(result.status()).as(result.toString()).isEqualTo(2);
        assertThat(result.err()).as(result.toString()).startsWith("error: ");
        assertThat(result.err().strip().lines()).as(result.toString()).hasSize(1);
        for (String fragment : fragments) {
            assertThat(result.err()).as(result.toString()).contains(fragment);
        }
    }

    @Test
    void should_refuse_an_unknown_type_naming_the_key_and_the_types() throws Exception {
        Workspace ws = named("local, nas, s3").property("stowage.repository.nas.type", "tape");
        assertUsageError(ws.run("check"), "stowage.repository.nas.type = tape", "must be one of local, s3",
                config() + ", line " + ws.lastPropertyLine());
    }

    @Test
    void should_refuse_a_listed_repository_without_a_type() throws Exception {
        assertUsageError(named("local, nas, s3").run("check"), "stowage.repositories names 'nas' but "
                + "stowage.repository.nas.type is not set; HINT: set it to local or s3", config().toString());
    }

    @Test
    void should_refuse_a_local_repository_without_a_path() throws Exception {
        assertUsageError(named("local, nas, s3").property("stowage.repository.nas.type", "local").run("check"),
                "repository 'nas' is of type local but stowage.repository.nas.path is not set");
    }

    @Test
    void should_refuse_an_s3_repository_without_a_bucket() throws Exception {
        assertUsageError(named("local, s3, s3-west").property("stowage.repository.s3-west.type", "s3").run("check"),
                "repository 's3-west' is of type s3 but stowage.repository.s3-west.bucket is not set");
    }

    @Test
    void should_refuse_a_key_for_a_repository_that_is_not_listed() throws Exception {
        Workspace ws = named("local, s3").property("stowage.repository.nas.path", dir.resolve("nas").toString());
        Workspace.Result check = ws.run("check");
        assertUsageError(check, "stowage.repository.nas.path is set but there is no repository 'nas'; HINT: add "
                + "'nas' to stowage.repositories, or remove the key", config().toString());
        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.err()).isEqualTo(check.err());
        assertThat(ws.repository().resolve("postgres")).doesNotExist();
    }

    @Test
    void should_leave_the_shipped_s3_lines_alone_without_a_bucket_and_refuse_a_bucket_left_out_of_the_list()
            throws Exception {
        Workspace ws = new Workspace(dir).property("stowage.repositories", "local")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.s3.region", "eu-west-1")
                .property("stowage.repository.s3.checksum", "sha256");
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).as(check.toString()).isZero();
        assertThat(check.out()).contains("ok    repository local at ").doesNotContain("repository s3");

        ws.property("stowage.repository.s3.bucket", "forgotten");
        assertUsageError(ws.run("check"), "stowage.repository.s3.bucket is set but there is no repository 's3'; "
                + "HINT: add 's3' to stowage.repositories, or remove the key");
    }

    @Test
    void should_refuse_a_key_of_another_type() throws Exception {
        assertUsageError(named("local, s3").property("stowage.repository.local.bucket", "b").run("check"),
                "stowage.repository.local.bucket does not apply to repository 'local', of type local; HINT: a local "
                        + "repository takes type, media, offsite, region, retention, path");
    }

    @Test
    void should_refuse_two_repositories_in_one_directory_also_through_a_link() throws Exception {
        Path nas = Files.createDirectories(dir.resolve("backups"));
        Path link = Files.createSymbolicLink(dir.resolve("nas-link"), nas);
        Workspace ws = named("local, nas, s3").property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", link.toString());
        assertUsageError(ws.run("check"), "repositories 'local' and 'nas' are both directory "
                + nas.toRealPath(), "HINT: give each repository a place of its own");
    }

    @Test
    void should_refuse_two_repositories_in_one_bucket_and_prefix() throws Exception {
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = new Workspace(dir).s3(bucket, "a/")
                .property("stowage.repositories", "local, s3, s3-west")
                .property("stowage.repository.local.type", "local")
                .property("stowage.repository.s3.type", "s3")
                .property("stowage.repository.s3-west.type", "s3")
                .property("stowage.repository.s3-west.bucket", bucket)
                .property("stowage.repository.s3-west.prefix", "a")
                .property("stowage.repository.s3-west.endpoint", S3TestServer.get().endpoint());
        assertUsageError(ws.run("check"), "repositories 's3' and 's3-west' are both s3://" + bucket + "/a/");
    }

    @Test
    void should_refuse_a_list_without_a_local_repository_saying_why_one_is_needed() throws Exception {
        Workspace ws = new Workspace(dir).s3(S3TestServer.get().createBucket(), "")
                .property("stowage.repositories", "s3")
                .property("stowage.repository.s3.type", "s3")
                .property("stowage.repository.local.path", "");
        assertUsageError(ws.run("check"), "stowage.repositories", "names no repository of type local",
                "the locks, the audit log and the alert outbox");
    }

    @Test
    void should_refuse_a_name_that_is_not_lowercase_letters_digits_and_dashes() throws Exception {
        assertUsageError(named("local, NAS_1, s3").run("check"), "stowage.repositories: 'NAS_1' is not a "
                + "repository name; HINT: use lowercase letters, digits and '-'");
    }

    @Test
    void should_suggest_the_key_of_the_same_repository_for_a_misspelt_one() throws Exception {
        Workspace ws = named("local, nas, s3").property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.pth", "/srv/nas");
        assertUsageError(ws.run("check"), "unknown key 'stowage.repository.nas.pth'",
                "HINT: did you mean 'stowage.repository.nas.path'?");
    }

    @Test
    void should_refuse_a_job_naming_a_repository_that_does_not_exist() throws Exception {
        Workspace ws = named("local, s3");
        ws.job("postgres", "postgres", "repositories", "local, tape");
        assertUsageError(ws.run("check"), "job 'postgres' names repository 'tape', which is not configured; HINT: "
                + "the repositories are local, s3 (stowage.repositories)");
        assertUsageError(ws.run("backup", "postgres"), "repository 'tape'");
    }

    @Test
    void should_refuse_a_job_whose_repositories_parameter_names_none() throws Exception {
        Workspace ws = named("local, s3");
        ws.job("postgres", "postgres", "repositories", " , ");
        assertUsageError(ws.run("check"), "job 'postgres': repositories ',' names no repository; HINT: name some of "
                + "local, s3, or leave it blank for all");
    }

    @Test
    void should_refuse_restore_from_a_repository_that_does_not_exist() throws Exception {
        Workspace ws = named("local, s3");
        assertUsageError(ws.run("restore", "postgres", "--target-database", "nowhere", "--from", "tape"),
                "unknown repository 'tape': the repositories are local, s3 (stowage.repositories)");
    }

    @Test
    void should_print_each_repository_with_its_attributes_in_check() throws Exception {
        Path nas = dir.resolve("nas");
        Workspace ws = named("nas, local, s3").property("stowage.repository.nas.type", "local")
                .property("stowage.repository.nas.path", nas.toString())
                .property("stowage.repository.nas.media", "nas")
                .property("stowage.repository.s3.region", "eu-west-1")
                .property("stowage.repository.local.offsite", "true");
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).as(check.toString()).isZero();
        assertThat(check.out()).contains("ok    repository nas at " + nas + " (type local, media nas, on site, home: "
                        + "locks, audit log, alert outbox)")
                .contains("ok    repository local at " + ws.repository() + " (type local, media disk, off site)")
                .contains("(type s3, media object, off site, region eu-west-1)");
    }

    @Test
    void should_refuse_a_timeout_that_is_not_a_positive_number_of_seconds_or_that_a_local_repository_has_not()
            throws Exception {
        Workspace zero = named("local, s3").property("stowage.repository.s3.call-timeout-seconds", "0");
        assertUsageError(zero.run("check"), "stowage.repository.s3.call-timeout-seconds",
                config() + ", line " + zero.lastPropertyLine());
        Workspace text = new Workspace(Files.createDirectories(dir.resolve("second")))
                .s3(S3TestServer.get().createBucket(), "").property("stowage.repository.s3.read-timeout-seconds", "30s");
        assertUsageError(text.run("check"), "stowage.repository.s3.read-timeout-seconds");
        Workspace local = new Workspace(Files.createDirectories(dir.resolve("third")))
                .s3(S3TestServer.get().createBucket(), "").property("stowage.repositories", "local, s3")
                .property("stowage.repository.local.type", "local").property("stowage.repository.s3.type", "s3")
                .property("stowage.repository.local.connect-timeout-seconds", "7");
        assertUsageError(local.run("check"), "stowage.repository.local.connect-timeout-seconds does not apply to "
                + "repository 'local', of type local");
    }
}
