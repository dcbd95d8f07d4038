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

    /** An engine's check of the details it wrote: a problem with them (the manifest is then damaged), or null. */
    @FunctionalInterface
    public interface DetailsCheck {
        String problem(Manifest manifest);

        DetailsCheck NONE = manifest -> null;
    }

    public static Manifest read(InputStream in, String where) throws IOException {
        return read(in, where, DetailsCheck.NONE);
    }

    public static Manifest read(InputStream in, String where, DetailsCheck details) throws IOException {
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
        if (!Manifest.READABLE_VERSIONS.contains(version)) {
            throw new StowageException("manifest " + where + " has format version " + version
                    + ", this Stowage reads versions " + new java.util.TreeSet<>(Manifest.READABLE_VERSIONS)
                    + "; HINT: use a Stowage release that knows it");
        }
        if (version == 1) {
            tree = fromVersion1((com.fasterxml.jackson.databind.node.ObjectNode) tree, where);
        }
        Manifest manifest;
        try {
            manifest = JSON.treeToValue(tree, Manifest.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new StowageException("manifest " + where + " is damaged: " + (e instanceof
                    com.fasterxml.jackson.core.JsonProcessingException json ? firstLine(json) : e.getMessage()), e);
        }
        String missing = missingField(manifest);
        String problem = missing != null ? "it has no " + missing : invalidField(manifest);
        if (problem == null && !manifest.engineDetails().isObject()) {
            problem = "its engineDetails is not a JSON object";
        }
        if (problem == null) {
            problem = details.problem(manifest);
        }
        if (problem != null) {
            throw new StowageException("manifest " + where + " is damaged: " + problem);
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

    private static final java.util.regex.Pattern OBJECT_NAME = java.util.regex.Pattern.compile(
            "[A-Za-z0-9][A-Za-z0-9._+-]{0,199}");
    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    /**
     * What a crafted or damaged manifest could misuse, or null: every name it gives is later joined to a path or a
     * repository key, and every codec and format chosen by it, so each must be one this version writes. A manifest
     * failing this is damaged, like one missing a field.
     */
    private static String invalidField(Manifest m) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Manifest.StoredObject o : m.objects()) {
            if (!OBJECT_NAME.matcher(o.name()).matches() || o.name().equals(Manifest.FILE_NAME)
                    || !names.add(o.name())) {
                return "object name '" + o.name() + "' is not a plain file name, or repeats";
            }
            if (!SHA256.matcher(o.sha256()).matches() || o.storedBytes() < 0 || o.sizeBytes() < 0) {
                return "object '" + o.name() + "' has no valid SHA-256 or sizes";
            }
        }
        if (m.parent() != null && !BackupId.isValid(m.parent())) {
            return "parent '" + m.parent() + "' is not a backup id";
        }
        try {
            io.stowage.pipeline.Codec.of(m.compression().codec());
        } catch (StowageException e) {
            return "compression codec '" + m.compression().codec() + "' is unknown to this version";
        }
        if (m.encryption() != null && !"age".equals(m.encryption().format())) {
            return "encryption format '" + m.encryption().format() + "' is unknown to this version";
        }
        return null;
    }

    /**
     * A version-1 manifest as version 2: the engine-specific fields version 1 kept at the top level (PostgreSQL's
     * {@code wal} and {@code contents}, the only engine then) move, unchanged, into {@code engineDetails}.
     */
    private static JsonNode fromVersion1(com.fasterxml.jackson.databind.node.ObjectNode tree, String where) {
        com.fasterxml.jackson.databind.node.ObjectNode details = tree.objectNode();
        for (String field : java.util.List.of("wal", "contents")) {
            JsonNode value = tree.remove(field);
            if (value != null && !value.isNull()) {
                details.set(field, value);
            }
        }
        if (tree.has("engineDetails")) {
            throw new StowageException("manifest " + where + " is damaged: format version 1 has no engineDetails");
        }
        tree.set("engineDetails", details);
        return tree;
    }

    private static String firstLine(com.fasterxml.jackson.core.JsonProcessingException e) {
        String message = e.getOriginalMessage();
        return message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("").strip();
    }
}
