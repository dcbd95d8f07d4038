package io.stowage.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The shipped alert rules' unit tests (docker/prometheus/alerts.test.yml), run by promtool: a repository that does
 * not answer fires StowageRepositoryNotAnswering and not StowageDown, which fires only when the service itself does
 * not answer; WAL lag and RPO fire against the job's objective, or one hour without it.
 */
class AlertRulesTest {
    @Test
    void should_pass_the_rule_unit_tests() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        assertThat(promtool).as("promtool is needed: apt-get install prometheus, or run bin/test").isExecutable();
        Process test = new ProcessBuilder(promtool.toString(), "test", "rules", "docker/prometheus/alerts.test.yml")
                .redirectErrorStream(true).start();
        String output = new String(test.getInputStream().readAllBytes());
        assertThat(test.waitFor()).as(output).isZero();
        assertThat(output).contains("SUCCESS");
    }
}
