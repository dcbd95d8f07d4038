package io.stowage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/quickstart on a machine without zstd: the README promises it installs zstd (the tool that reads a backup by
 * hand), and a user without root is told how. apt-get is a stand-in that records what it is asked and then fails,
 * which stops the script before it builds or starts anything.
 */
class QuickstartScriptTest {
    @TempDir
    Path dir;

    @Test
    void should_install_zstd_when_missing() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path asked = dir.resolve("apt-get.log");
        Path aptGet = Files.writeString(bin.resolve("apt-get"), "#!/bin/sh\necho \"$@\" >> '" + asked + "'\n"
                + "[ \"$1\" = update ] || exit 1\n");
        aptGet.toFile().setExecutable(true);
        // Only what the script's checks need, and PostgreSQL's client: no zstd on this PATH.
        for (String tool : List.of("/usr/bin/dirname", "/usr/bin/id", "/bin/ls")) {
            Files.createSymbolicLink(bin.resolve(Path.of(tool).getFileName()), Path.of(tool).toRealPath());
        }
        Path pgBin;
        try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            pgBin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_dump")))
                    .findFirst().orElseThrow();
        }
        Files.createSymbolicLink(bin.resolve("pg_dump"), pgBin.resolve("pg_dump"));

        ProcessBuilder builder = new ProcessBuilder("/bin/bash", Path.of("bin/quickstart").toAbsolutePath().toString())
                .redirectErrorStream(true);
        builder.environment().put("PATH", bin.toString());
        Process process = builder.start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes());
        int status = process.waitFor();

        if ("root".equals(System.getProperty("user.name"))) {
            assertThat(status).as(output).isNotZero(); // the stand-in's install fails, and the script stops there
            assertThat(asked).as("apt-get was never asked; the script said:%n%s", output).exists();
            assertThat(Files.readAllLines(asked)).as(output).hasSize(2).last().asString()
                    .startsWith("install ").contains(" zstd");
        } else {
            assertThat(output).contains("warning: zstd is missing").contains("HINT: sudo apt-get install zstd");
        }
    }
}
