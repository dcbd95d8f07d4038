package io.stowage.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.catalog.BackupId;
import io.stowage.catalog.BackupType;
import io.stowage.catalog.ManifestCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A history of backups older than the test: the clock of a real server cannot be moved, so a real backup's directory
 * is copied under an older id, its manifest rewritten (id, times, type, parent) and nothing else, as a backup taken
 * then would have left it. The data objects are the real backup's, so the copies restore.
 */
public final class BackupHistory {
    private BackupHistory() {
    }

    /**
     * Copies backup {@code fromId} of {@code job} in {@code repository} (a local repository's root) as a backup that
     * started at {@code started}, of {@code type}, with {@code parent}; returns its id. Verifications and pins of the
     * original are not copied.
     */
    public static String copy(Path repository, String job, String fromId, Instant started, BackupType type,
                              String parent) throws IOException {
        return copy(repository.resolve(job).resolve(fromId), repository, job, started, type, parent);
    }

    /** As {@link #copy(Path, String, String, Instant, BackupType, String)}, from the backup directory {@code from}. */
    public static String copy(Path from, Path repository, String job, Instant started, BackupType type,
                              String parent) throws IOException {
        String id = BackupId.of(started, type);
        Path to = Files.createDirectories(repository.resolve(job).resolve(id));
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (!name.equals("manifest.json") && !name.startsWith("verified-") && !name.equals("pinned.json")) {
                    Files.copy(file, to.resolve(name));
                }
            }
        }
        ObjectNode manifest = (ObjectNode) ManifestCodec.JSON.readTree(from.resolve("manifest.json").toFile());
        Duration took = Duration.between(Instant.parse(manifest.get("started").asText()),
                Instant.parse(manifest.get("finished").asText()));
        manifest.put("id", id);
        manifest.put("type", type.id());
        manifest.put("parent", parent);
        manifest.put("started", started.toString());
        manifest.put("finished", started.plus(took).toString());
        Files.write(to.resolve("manifest.json"), ManifestCodec.JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(manifest));
        return id;
    }

    /**
     * Adds {@code count} small objects to backup {@code id}, each named in its manifest with its size and SHA-256 (a
     * backup of many objects, as a split or per-file backup has them).
     */
    public static void addObjects(Path repository, String job, String id, int count, int size) throws Exception {
        Path dir = repository.resolve(job).resolve(id);
        ObjectNode manifest = (ObjectNode) ManifestCodec.JSON.readTree(dir.resolve("manifest.json").toFile());
        ArrayNode objects = (ArrayNode) manifest.get("objects");
        java.util.Random random = new java.util.Random(id.hashCode());
        long stored = manifest.get("storedBytes").asLong();
        for (int i = 0; i < count; i++) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            String name = String.format(java.util.Locale.ROOT, "part-%05d.bin", i);
            Files.write(dir.resolve(name), bytes);
            ObjectNode object = objects.addObject();
            object.put("name", name);
            object.put("sizeBytes", size);
            object.put("storedBytes", size);
            object.put("sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
            stored += size;
        }
        manifest.put("storedBytes", stored);
        Files.write(dir.resolve("manifest.json"), ManifestCodec.JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(manifest));
    }

    /** Every regular file under {@code root}, relative, with its size and modification time: to compare trees. */
    public static TreeSet<String> files(Path root) throws IOException {
        TreeSet<String> files = new TreeSet<>();
        if (!Files.exists(root)) {
            return files;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.filter(Files::isRegularFile).toList()) {
                files.add(root.relativize(p) + " " + Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis());
            }
        }
        return files;
    }

    /** The backup directories of {@code job} (names that are backup ids), sorted. */
    public static List<String> directories(Path repository, String job) throws IOException {
        Path dir = repository.resolve(job);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> paths = Files.list(dir)) {
            return paths.map(p -> p.getFileName().toString()).filter(BackupId::isValid).sorted().toList();
        }
    }

    /** The backup directories of {@code job} that hold a manifest, sorted. */
    public static List<String> withManifest(Path repository, String job) throws IOException {
        List<String> ids = new ArrayList<>();
        for (String id : directories(repository, job)) {
            if (Files.exists(repository.resolve(job).resolve(id).resolve("manifest.json"))) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** The ids in {@code list --json} output, oldest first. */
    public static List<String> ids(String listJson) throws IOException {
        List<String> ids = new ArrayList<>();
        for (JsonNode entry : ManifestCodec.JSON.readTree(listJson)) {
            ids.add(entry.get("id").asText());
        }
        return ids;
    }
}
