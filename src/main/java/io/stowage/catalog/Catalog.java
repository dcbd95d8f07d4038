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
    private final ManifestCodec.DetailsCheck details;

    public Catalog(List<Repository> repositories) {
        this(repositories, ManifestCodec.DetailsCheck.NONE);
    }

    /** {@code details}: the engines' checks of what they wrote in {@code engineDetails}. */
    public Catalog(List<Repository> repositories, ManifestCodec.DetailsCheck details) {
        this.repositories = List.copyOf(repositories);
        this.details = details;
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
        Map<String, Map<String, List<String>>> missing = new java.util.HashMap<>();
        List<UnreadableManifest> unreadable = new ArrayList<>();
        Scan scan = scan(job, warnings);
        scan.manifests().forEach((repository, keys) -> keys.forEach((sortKey, key) -> {
            Manifest manifest = readCopy(repository, key, unreadable, warnings);
            if (manifest != null) {
                manifests.putIfAbsent(sortKey, manifest);
                holders.computeIfAbsent(sortKey, k -> new ArrayList<>()).add(repository.name());
                java.util.Set<String> listed = scan.objects().get(repository).getOrDefault(sortKey,
                        java.util.Set.of());
                List<String> lacking = manifest.objects().stream().map(Manifest.StoredObject::name)
                        .filter(name -> !listed.contains(name)).toList();
                if (!lacking.isEmpty()) {
                    missing.computeIfAbsent(sortKey, k -> new java.util.TreeMap<>()).put(repository.name(), lacking);
                }
            }
        }));
        List<CatalogEntry> entries = new ArrayList<>();
        manifests.forEach((key, manifest) -> entries.add(new CatalogEntry(manifest, List.copyOf(holders.get(key)),
                scan.verified().get(key), scan.pinned().contains(key), missing.get(key))));
        return new CatalogListing(entries, unreadable, scan.incomplete(), scan.skipped());
    }

    /**
     * What the repositories hold of {@code job} (or of every job), from their listings alone: each repository's
     * manifest keys by backup ({@code <id>/<job>}, which sorts by time), and each backup's newest verification. A
     * repository that cannot be listed is reported to {@code warnings} and left out.
     */
    private record Scan(Map<Repository, Map<String, String>> manifests, Map<String, java.time.Instant> verified,
                        java.util.Set<String> pinned, Map<Repository, Map<String, java.util.Set<String>>> objects,
                        List<IncompleteBackup> incomplete, List<String> skipped) {
    }

    private Scan scan(String job, Consumer<String> warnings) {
        Map<Repository, Map<String, String>> manifests = new LinkedHashMap<>();
        Map<String, java.time.Instant> verified = new java.util.HashMap<>();
        java.util.Set<String> pinned = new java.util.HashSet<>();
        Map<Repository, Map<String, java.util.Set<String>>> objects = new LinkedHashMap<>();
        List<IncompleteBackup> incomplete = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Repository repository : repositories) {
            List<String> keys;
            try {
                keys = backupKeys(repository, job);
            } catch (IOException | StowageException e) {
                skipped.add(repository.name());
                warnings.accept("repository '" + repository.name() + "' skipped: " + io.stowage.Failures.describe(e));
                continue;
            }
            Map<String, String> found = new LinkedHashMap<>();
            Map<String, java.util.Set<String>> names = new LinkedHashMap<>();
            Map<String, List<String>> byBackup = new LinkedHashMap<>();
            for (String key : keys) {
                String[] parts = key.split("/", 3);
                if (parts.length != 3 || !BackupId.isValid(parts[1]) || (job != null && !parts[0].equals(job))) {
                    continue;
                }
                String sortKey = parts[1] + "/" + parts[0];
                byBackup.computeIfAbsent(sortKey, k -> new ArrayList<>()).add(key);
                names.computeIfAbsent(sortKey, k -> new java.util.HashSet<>()).add(parts[2]);
                java.util.regex.Matcher proof = VERIFIED.matcher(parts[2]);
                if (proof.matches()) {
                    java.time.Instant at = java.time.LocalDateTime.parse(proof.group(1),
                            java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")).toInstant(
                            java.time.ZoneOffset.UTC);
                    verified.merge(sortKey, at, (a, b) -> a.isAfter(b) ? a : b);
                } else if (parts[2].equals(Pins.FILE_NAME)) {
                    pinned.add(sortKey);
                } else if (parts[2].equals(Manifest.FILE_NAME)) {
                    found.put(sortKey, key);
                }
            }
            byBackup.forEach((sortKey, backupKeys) -> {
                if (!found.containsKey(sortKey)) {
                    String[] parts = sortKey.split("/");
                    incomplete.add(new IncompleteBackup(parts[1], parts[0], repository.name(), List.copyOf(backupKeys)));
                }
            });
            manifests.put(repository, found);
            objects.put(repository, names);
        }
        return new Scan(manifests, verified, pinned, objects, incomplete, skipped);
    }

    /**
     * One repository's copy of a manifest, or null: when it was removed since the listing (expired: not there, and
     * not damaged either), or when it cannot be used, which is added to {@code unreadable} and reported.
     */
    private Manifest readCopy(Repository repository, String key, List<UnreadableManifest> unreadable,
                                     Consumer<String> warnings) {
        String[] parts = key.split("/");
        try {
            return read(repository, key, parts[0], parts[1]);
        } catch (ObjectNotFoundException removedMeanwhile) {
            return null;
        } catch (IOException | RuntimeException e) {
            UnreadableManifest bad = new UnreadableManifest(parts[0], parts[1], repository.name(),
                    e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            unreadable.add(bad);
            warnings.accept(bad.describe());
            return null;
        }
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
     * backup's manifest cannot be read in any repository (see {@link CatalogListing#requireNewestReadable}). Reads the
     * manifests of that backup only (and reports only their damaged copies), unless it cannot be found that way.
     */
    public CatalogEntry find(String job, String id, Consumer<String> warnings) {
        // Only the copies of the backup asked for are read: a restore needs one backup, not every manifest there is.
        List<String> said = new ArrayList<>();
        Scan scan = scan(job, said::add);
        String wanted = id == null || id.equals("latest") ? scan.manifests().values().stream()
                .flatMap(keys -> keys.keySet().stream()).max(String::compareTo).orElse(null) : id + "/" + job;
        Manifest manifest = null;
        List<String> holders = new ArrayList<>();
        List<UnreadableManifest> unreadable = new ArrayList<>();
        for (Map.Entry<Repository, Map<String, String>> listed : scan.manifests().entrySet()) {
            String key = wanted == null ? null : listed.getValue().get(wanted);
            Manifest copy = key == null ? null : readCopy(listed.getKey(), key, unreadable, said::add);
            if (copy != null) {
                manifest = manifest == null ? copy : manifest;
                holders.add(listed.getKey().name());
            }
        }
        if (manifest == null) {
            // Not there, or unreadable everywhere: the whole catalog says what is wrong, in the words of list.
            return read(job, warnings).find(job, id);
        }
        said.forEach(warnings);
        return new CatalogEntry(manifest, List.copyOf(holders), scan.verified().get(wanted),
                scan.pinned().contains(wanted), Map.of());
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
    private Manifest read(Repository repository, String key, String job, String id) throws IOException {
        Manifest manifest;
        try (InputStream in = repository.open(key)) {
            manifest = ManifestCodec.read(in, "'" + key + "'", details);
        }
        if (!id.equals(manifest.id()) || !job.equals(manifest.job())) {
            throw new StowageException("manifest '" + key + "' describes backup " + manifest.id() + " of job '"
                    + manifest.job() + "', not the backup of its directory");
        }
        return manifest;
    }
}
