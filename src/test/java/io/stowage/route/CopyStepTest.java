package io.stowage.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.S3TestServer;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.ResponseTransformer;

/**
 * {@code stowage:copy} after a route that stores several objects: every one of them reaches the other repository
 * before its manifest does, so a copy that holds only the last object is never listed as complete.
 */
class CopyStepTest {
    private static final String SOURCE = "copy_step_source";

    @TempDir
    Path dir;

    /** A route template that stores two objects (the same dump, two codecs), then copies and catalogs. */
    private static final String TWO_OBJECTS = """
            - routeTemplate:
                id: two-objects
                parameters:
                  - name: job
                  - name: engine
                  - name: method
                  - name: host
                  - name: port
                  - name: user
                  - name: password
                  - name: database
                  - name: pgBin
                  - name: repositories
                    defaultValue: ""
                route:
                  id: "backup-{{job}}"
                  routeConfigurationId: stowage-backup-errors
                  from:
                    uri: "direct:backup-{{job}}"
                    steps:
                      - to: "stowage:begin?job={{job}}"
                      - to: "stowage:pg-dump"
                      - to: "stowage:compress?codec=zstd&level=1&workers=0"
                      - to: "stowage:checksum?algorithm=sha256"
                      - to: "stowage:store"
                      - to: "stowage:pg-dump"
                      - to: "stowage:compress?codec=gzip&level=1&workers=0"
                      - to: "stowage:checksum?algorithm=sha256"
                      - to: "stowage:store"
                      - to: "stowage:copy"
                      - to: "stowage:catalog"
            """;

    @Test
    void should_copy_every_stored_object_before_the_manifest() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, SOURCE);
        String bucket = S3TestServer.get().createBucket();
        Workspace ws = new Workspace(dir).s3(bucket, "");
        ws.templatedJob("postgres", "two-objects", List.of("engine", engineOf(), "method", "logical",
                "host", pg.host(), "port", Integer.toString(pg.port()), "user", ThrowawayPostgres.USER,
                "password", ThrowawayPostgres.PASSWORD, "database", SOURCE, "pgBin", pg.binDir().toString()), "");
        ws.writeConfiguration();
        Files.writeString(ws.dir().resolve("routes/two-objects.camel.yaml"), TWO_OBJECTS);

        Workspace.Result backup = ws.run("backup", "postgres");
        assertThat(backup.status()).as(backup.toString()).isZero();
        String id = backup.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        JsonNode manifest = ManifestCodec.JSON.readTree(ws.repository().resolve("postgres/" + id + "/manifest.json")
                .toFile());
        assertThat(manifest.get("objects")).hasSize(2);
        for (JsonNode object : manifest.get("objects")) {
            byte[] bytes = S3TestServer.get().client().getObject(r -> r.bucket(bucket)
                    .key("postgres/" + id + "/" + object.get("name").asText()), ResponseTransformer.toBytes())
                    .asByteArray();
            assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                    .as(object.get("name").asText()).isEqualTo(object.get("sha256").asText());
        }
        JsonNode listed = ManifestCodec.JSON.readTree(ws.run("list", "--json").out());
        assertThat(listed.get(0).get("repositories").toString()).isEqualTo("[\"local\",\"s3\"]");
    }

    /** The engine of the shipped logical template, read from it (no engine name is spelt out here). */
    private static String engineOf() throws Exception {
        String template = Files.readString(Path.of("routes/postgresql-logical.camel.yaml"));
        int at = template.indexOf("- name: engine");
        String rest = template.substring(at);
        String line = rest.lines().filter(l -> l.contains("defaultValue:")).findFirst().orElseThrow();
        return line.substring(line.indexOf(':') + 1).strip();
    }
}
