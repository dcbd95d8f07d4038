package io.stowage.engine.postgresql;

import io.stowage.pipeline.ExternalProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Versions of the PostgreSQL client tools, recorded in every manifest. */
final class PgTools {
    private PgTools() {
    }

    /** {@code pg_dump --version} prints {@code pg_dump (PostgreSQL) 15.20 (Debian ...)}: returns {@code 15.20}. */
    static String version(String tool) {
        ExternalProcess process = ExternalProcess.start(List.of(tool, "--version"), Map.of(), false);
        try (process; InputStream out = process.stdout()) {
            String text = new String(out.readAllBytes(), StandardCharsets.UTF_8).trim();
            process.awaitSuccess();
            String[] words = text.split("\\s+");
            return words.length >= 3 ? words[2] : text;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
