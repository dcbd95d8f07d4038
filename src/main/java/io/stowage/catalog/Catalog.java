package io.stowage.catalog;

import io.stowage.StowageException;
import io.stowage.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The backups that exist, read from the repositories themselves: a backup is complete in a repository exactly when
 * its {@code manifest.json} is there, so the catalog can never disagree with what a restore would find. A backup
 * present in several repositories is one entry that names them all.
 */
public final class Catalog {
    /** A verification's record beside the manifest: {@code verified-20261121T061500Z.json}. */
    private static final java.util.regex.Pattern VERIFIED =
            java.util.regex.Pattern.compile("verified-(\\d{8}T\\d{6})Z\\.json");

    private final List<Repository> repositories;

    public Catalog(List<Repository> repositories) {
        this.repositories = List.copyOf(repositories);
    }

    public static String manifestKey(String job, String id) {
        return job + "/" + id + "/" + Manifest.FILE_NAME;
    }

    public static String objectKey(String job, String id, String name) {
        return job + "/" + id + "/" + name;
    }

    /**
     * Complete backups, oldest first. A repository that cannot be read is reported to {@code warnings} and
     * skipped, so one unreachable bucket does not hide the backups that are on local disk.
     */
    public List<CatalogEntry> list(String job, Consumer<String> warnings) {
        Map<String, Manifest> manifests = new TreeMap<>();
        Map<String, List<String>> holders = new LinkedHashMap<>();
        Map<String, java.time.Instant> verified = new java.util.HashMap<>();
        for (Repository repository : repositories) {
            try {
                for (String key : backupKeys(repository, job)) {
                    String[] parts = key.split("/");
                    java.util.regex.Matcher proof = parts.length == 3 ? VERIFIED.matcher(parts[2]) : null;
                    if (proof != null && proof.matches() && BackupId.isValid(parts[1])) {
                        java.time.Instant at = java.time.LocalDateTime.parse(proof.group(1),
                                java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")).toInstant(
                                java.time.ZoneOffset.UTC);
                        verified.merge(parts[1] + "/" + parts[0], at, (a, b) -> a.isAfter(b) ? a : b);
                        continue;
                    }
                    if (parts.length != 3 || !parts[2].equals(Manifest.FILE_NAME) || !BackupId.isValid(parts[1])
                            || (job != null && !parts[0].equals(job))) {
                        continue;
                    }
                    String sortKey = parts[1] + "/" + parts[0];
                    if (!manifests.containsKey(sortKey)) {
                        manifests.put(sortKey, read(repository, key));
                    }
                    holders.computeIfAbsent(sortKey, k -> new ArrayList<>()).add(repository.name());
                }
            } catch (IOException | StowageException e) {
                warnings.accept("repository '" + repository.name() + "' skipped: " + io.stowage.Failures.describe(e));
            }
        }
        List<CatalogEntry> entries = new ArrayList<>();
        manifests.forEach((key, manifest) -> entries.add(new CatalogEntry(manifest, List.copyOf(holders.get(key)),
                verified.get(key))));
        return entries;
    }

    /**
     * The keys of the backup directories of {@code job} (or of every job): only {@code <job>/<backup-id>/...}, found
     * through directory listings, so that archived WAL and the audit log are never listed.
     */
    private static List<String> backupKeys(Repository repository, String job) throws IOException {
        List<String> jobs = new ArrayList<>();
        if (job != null) {
            jobs.add(job);
        } else {
            for (String child : repository.children("")) {
                String name = child.substring(0, child.length() - 1);
                if (child.endsWith("/") && name.matches("[a-z0-9][a-z0-9_-]*")) {
                    jobs.add(name);
                }
            }
        }
        List<String> keys = new ArrayList<>();
        for (String name : jobs) {
            for (String child : repository.children(name + "/")) {
                if (child.endsWith("/") && BackupId.isValid(child.substring(0, child.length() - 1))) {
                    keys.addAll(repository.list(name + "/" + child));
                }
            }
        }
        return keys;
    }

    /** The backup {@code id} of {@code job}, or its newest when id is null or {@code latest}. */
    public CatalogEntry find(String job, String id, Consumer<String> warnings) {
        List<CatalogEntry> entries = list(job, warnings);
        if (entries.isEmpty()) {
            throw new StowageException("job '" + job + "' has no complete backup; HINT: run 'stowage backup " + job + "'");
        }
        if (id == null || id.equals("latest")) {
            return entries.get(entries.size() - 1);
        }
        if (!BackupId.isValid(id)) {
            throw StowageException.usage("'" + id + "' is not a backup id (like 20261121T020000Z-F) or 'latest'");
        }
        return entries.stream().filter(e -> e.id().equals(id)).findFirst()
                .orElseThrow(() -> new StowageException("backup '" + id + "' of job '" + job
                        + "' not found; HINT: 'stowage list " + job + "' shows the complete backups"));
    }

    /**
     * The record of the newest successful verification of {@code entry} ({@code verified-<time>.json}: restore time,
     * RTO objective, probes), from the first repository that holds it; null when it has none or none can be read.
     */
    public com.fasterxml.jackson.databind.JsonNode verification(CatalogEntry entry) {
        if (entry.verified() == null) {
            return null;
        }
        String name = "verified-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")
                .withZone(java.time.ZoneOffset.UTC).format(entry.verified()) + "Z.json";
        for (Repository repository : repositories) {
            if (!entry.repositories().contains(repository.name())) {
                continue;
            }
            try (InputStream in = repository.open(objectKey(entry.job(), entry.id(), name))) {
                return ManifestCodec.JSON.readTree(in.readNBytes(1 << 20));
            } catch (IOException | RuntimeException e) {
                // another repository may hold it
            }
        }
        return null;
    }

    private static Manifest read(Repository repository, String key) throws IOException {
        try (InputStream in = repository.open(key)) {
            return ManifestCodec.read(in, "'" + key + "' in repository '" + repository.name() + "'");
        }
    }
}
