package io.stowage.catalog;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.stowage.StowageException;
import java.io.IOException;
import java.io.InputStream;

/** Reads and writes manifests; refuses a format version it does not know. */
public final class ManifestCodec {
    /** Shared JSON settings: ISO-8601 UTC times, lenient about fields added by later minor releases. */
    public static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private ManifestCodec() {
    }

    public static byte[] write(Manifest manifest) {
        try {
            return JSON.writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize manifest", e);
        }
    }

    public static Manifest read(InputStream in, String where) throws IOException {
        JsonNode tree;
        try {
            tree = JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new StowageException("manifest " + where + " is not valid JSON: " + firstLine(e), e);
        }
        if (tree == null || !tree.isObject()) {
            throw new StowageException("manifest " + where + " is damaged: it is " + (tree == null
                    || tree.isMissingNode() ? "empty" : "not a JSON object"));
        }
        int version = tree.path("formatVersion").asInt(0);
        if (version != Manifest.FORMAT_VERSION) {
            throw new StowageException("manifest " + where + " has format version " + version
                    + ", this Stowage reads version " + Manifest.FORMAT_VERSION + "; HINT: use a Stowage release that"
                    + " knows it");
        }
        Manifest manifest;
        try {
            manifest = JSON.treeToValue(tree, Manifest.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new StowageException("manifest " + where + " is damaged: " + (e instanceof
                    com.fasterxml.jackson.core.JsonProcessingException json ? firstLine(json) : e.getMessage()), e);
        }
        String missing = missingField(manifest);
        if (missing != null) {
            throw new StowageException("manifest " + where + " is damaged: it has no " + missing);
        }
        return manifest;
    }

    /** The first field every reader relies on that a manifest lacks, or null: such a manifest is damaged. */
    private static String missingField(Manifest m) {
        if (!BackupId.isValid(m.id())) {
            return "valid id";
        }
        if (m.job() == null || m.engine() == null || m.type() == null || m.method() == null) {
            return m.job() == null ? "job" : m.engine() == null ? "engine" : m.type() == null ? "type" : "method";
        }
        if (m.started() == null || m.finished() == null) {
            return m.started() == null ? "started" : "finished";
        }
        if (m.compression() == null || m.compression().codec() == null) {
            return "compression";
        }
        if (m.objects() == null || m.objects().isEmpty() || m.objects().stream().anyMatch(o -> o == null
                || o.name() == null || o.sha256() == null)) {
            return "objects (each with a name and a SHA-256)";
        }
        return null;
    }

    private static String firstLine(com.fasterxml.jackson.core.JsonProcessingException e) {
        String message = e.getOriginalMessage();
        return message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("").strip();
    }
}
