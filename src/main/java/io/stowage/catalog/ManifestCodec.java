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
            throw new StowageException("manifest " + where + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        int version = tree == null ? 0 : tree.path("formatVersion").asInt(0);
        if (version != Manifest.FORMAT_VERSION) {
            throw new StowageException("manifest " + where + " has format version " + version
                    + ", this Stowage reads version " + Manifest.FORMAT_VERSION + "; HINT: use a Stowage release that"
                    + " knows it");
        }
        return JSON.treeToValue(tree, Manifest.class);
    }
}
