package io.stowage.catalog;

import io.stowage.StowageException;
import io.stowage.repository.ObjectNotFoundException;
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
     * skipped, so one unreachable bucket does not hide the backups that are on local disk; a manifest that cannot be
     * used skips only its backup, in only that repository, and is reported too.
     */
    public List<CatalogEntry> list(String job, Consumer<String> warnings) {
        return read(job, warnings).entries();
    }

    /**
     * Complete backups, oldest first, and the manifests that are there but cannot be used (each also reported to
     * {@code warnings}). Every copy of a manifest is read, so that a damaged copy is found even where another
     * repository holds a sound one.
     */
    public CatalogListing read(String job, Consumer<String> warnings) {
        Map<String, Manifest> manifests = new TreeMap<>();
        Map<String, List<String>> holders = new LinkedHashMap<>();
        Map<String, java.time.Instant> verified = new java.util.HashMap<>();
        List<UnreadableManifest> unreadable = new ArrayList<>();
        for (Repository repository : repositories) {
            List<String> keys;
            try {
                keys = backupKeys(repository, job);
            } catch (IOException | StowageException e) {
                warnings.accept("repository '" + repository.name() + "' skipped: " + io.stowage.Failures.describe(e));
                continue;
            }
            for (String key : keys) {
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
                Manifest manifest;
                try {
                    manifest = read(repository, key, parts[0], parts[1]);
                } catch (ObjectNotFoundException removedMeanwhile) {
                    continue; // expired since the listing: not there, and not damaged either
                } catch (IOException | RuntimeException e) {
                    UnreadableManifest bad = new UnreadableManifest(parts[0], parts[1], repository.name(),
                            e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                    unreadable.add(bad);
                    warnings.accept(bad.describe());
                    continue;
                }
                manifests.putIfAbsent(sortKey, manifest);
                holders.computeIfAbsent(sortKey, k -> new ArrayList<>()).add(repository.name());
            }
        }
        List<CatalogEntry> entries = new ArrayList<>();
        manifests.forEach((key, manifest) -> entries.add(new CatalogEntry(manifest, List.copyOf(holders.get(key)),
                verified.get(key))));
        return new CatalogListing(entries, unreadable);
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

    /**
     * The backup {@code id} of {@code job}, or its newest when id is null or {@code latest}: refused when the newest
     * backup's manifest cannot be read in any repository (see {@link CatalogListing#requireNewestReadable}).
     */
    public CatalogEntry find(String job, String id, Consumer<String> warnings) {
        return read(job, warnings).find(job, id);
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

    /** Reads a manifest and makes sure it describes the backup whose directory holds it. */
    private static Manifest read(Repository repository, String key, String job, String id) throws IOException {
        Manifest manifest;
        try (InputStream in = repository.open(key)) {
            manifest = ManifestCodec.read(in, "'" + key + "'");
        }
        if (!id.equals(manifest.id()) || !job.equals(manifest.job())) {
            throw new StowageException("manifest '" + key + "' describes backup " + manifest.id() + " of job '"
                    + manifest.job() + "', not the backup of its directory");
        }
        return manifest;
    }
}
