package io.stowage.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A cheap guard on docker/Dockerfile, which cannot be built here: every command its HEALTHCHECK runs is in the
 * image (installed in the final stage and not purged after), else the container is never healthy.
 */
class DockerfileTest {
    /** Shell builtins the check may use without any package. */
    private static final Set<String> BUILTINS = Set.of("exit", "true", "false", "test", "[", "echo", "printf");

    @Test
    void should_install_and_keep_every_command_the_healthcheck_runs() throws Exception {
        String dockerfile = Files.readString(Path.of("docker/Dockerfile")).replaceAll("\\\\\\n", " ");
        String finalStage = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
        Set<String> installed = packages(finalStage, "apt-get install");
        Set<String> purged = packages(finalStage, "apt-get purge");
        purged.addAll(packages(finalStage, "apt-get remove"));

        Matcher healthcheck = Pattern.compile("(?m)^HEALTHCHECK\\b.*?\\bCMD\\s+(.*)$").matcher(finalStage);
        assertThat(healthcheck.find()).as("a HEALTHCHECK in the final stage").isTrue();
        List<String> commands = commands(healthcheck.group(1));
        assertThat(commands).isNotEmpty();
        for (String command : commands) {
            if (BUILTINS.contains(command)) {
                continue;
            }
            assertThat(installed).as("HEALTHCHECK runs '" + command + "': installed in the final stage").contains(command);
            assertThat(purged).as("HEALTHCHECK runs '" + command + "': never purged").doesNotContain(command);
        }
    }

    /** Package names after {@code verb} (options left out) in every RUN of the stage. */
    private static Set<String> packages(String stage, String verb) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = Pattern.compile(Pattern.quote(verb) + "\\s+([^&;|]*)").matcher(stage);
        while (m.find()) {
            for (String word : m.group(1).trim().split("\\s+")) {
                if (!word.startsWith("-") && !word.isEmpty()) {
                    names.add(word.replaceAll("\\$\\{[^}]*}", "").replaceAll("[=:].*", ""));
                }
            }
        }
        return names;
    }

    /** The programs a CMD runs: the first word of each shell command, or the exec form's first element. */
    private static List<String> commands(String cmd) {
        String text = cmd.trim();
        List<String> commands = new ArrayList<>();
        if (text.startsWith("[")) {
            Matcher first = Pattern.compile("\\[\\s*\"([^\"]+)\"").matcher(text);
            if (first.find()) {
                commands.add(name(first.group(1)));
            }
            return commands;
        }
        for (String part : text.split("\\|\\||&&|;|\\|")) {
            String[] words = part.trim().split("\\s+");
            Arrays.stream(words).filter(w -> !w.isEmpty()).findFirst().map(DockerfileTest::name).ifPresent(commands::add);
        }
        return commands;
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
