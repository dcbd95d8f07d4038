package io.stowage.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.catalog.CatalogEntry;
import io.stowage.catalog.Manifest;
import io.stowage.catalog.ManifestCodec;
import io.stowage.engine.LogArchive;
import io.stowage.repository.Repository;
import io.stowage.runtime.StowageRuntime;
import io.stowage.Sizes;
import java.time.temporal.ChronoUnit;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code list [JOB] [--json]}: complete backups, oldest first. */
@Command(name = "list", description = "List complete backups, oldest first.")
final class ListCommand extends BaseCommand {
    @Parameters(paramLabel = "JOB", arity = "0..1", description = "Only this job's backups.")
    String job;

    @Option(names = "--json", description = "Print a JSON array (the format is part of the contract).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (StowageRuntime runtime = startLightRuntime()) {
            if (job != null && !job.matches("[a-z0-9][a-z0-9_-]*")) {
                runtime.services().jobs().get(job); // not a job name at all: refused, naming the jobs there are
            }
            io.stowage.catalog.CatalogListing listing = runtime.services().catalog().read(job, this::warn);
            List<CatalogEntry> entries = listing.entries();
            // A job that is neither configured nor in any repository is a typo: an empty list would say it has no
            // backups. The backups of a job since removed from routes/ are still listed (or named, when damaged).
            if (job != null && entries.isEmpty() && listing.unreadable().isEmpty()) {
                runtime.services().jobs().get(job);
            }
            Map<CatalogEntry, LogArchive.Coverage> wal = logCoverage(entries, runtime.services().repositories().all(),
                    runtime.services().engines());
            if (json) {
                out().println(ManifestCodec.JSON.writeValueAsString(toJson(entries, runtime.services().catalog(),
                        wal, runtime.services().engines())));
            } else {
                printTable(entries, wal);
            }
            out().flush();
            return 0;
        }
    }

    /**
     * Whether the log each backup needs (a physical PostgreSQL backup's WAL) is in the repositories holding it: one
     * listing per repository and job, through one reader per engine.
     */
    private Map<CatalogEntry, LogArchive.Coverage> logCoverage(List<CatalogEntry> entries,
                                                             List<Repository> repositories,
                                                             io.stowage.engine.Engines engines) {
        Map<String, LogArchive.Reader> readers = new java.util.HashMap<>();
        Map<CatalogEntry, LogArchive.Coverage> coverage = new IdentityHashMap<>();
        for (CatalogEntry entry : entries) {
            String engine = entry.manifest().engine();
            if (!engines.has(engine) || engines.get(engine).logArchive().isEmpty()) {
                continue;
            }
            LogArchive.Reader reader = readers.computeIfAbsent(engine,
                    e -> engines.get(e).logArchive().orElseThrow().reader());
            if (reader.needsLog(entry.manifest())) {
                coverage.put(entry, reader.coverage(entry, repositories, this::warn));
            }
        }
        return coverage;
    }

    static ArrayNode toJson(List<CatalogEntry> entries, io.stowage.catalog.Catalog catalog,
                            Map<CatalogEntry, LogArchive.Coverage> wal, io.stowage.engine.Engines engines) {
        ArrayNode array = ManifestCodec.JSON.createArrayNode();
        for (CatalogEntry entry : entries) {
            Manifest m = entry.manifest();
            ObjectNode node = array.addObject();
            node.put("id", m.id());
            node.put("job", m.job());
            node.put("engine", m.engine());
            node.put("type", m.type().id());
            node.put("method", m.method());
            node.put("parent", m.parent());
            node.put("started", m.started().toString());
            node.put("finished", m.finished().toString());
            node.put("sizeBytes", m.sizeBytes());
            node.put("storedBytes", m.storedBytes());
            node.put("compression", m.compression().codec());
            node.put("encrypted", m.encrypted());
            ArrayNode repositories = node.putArray("repositories");
            entry.repositories().forEach(repositories::add);
            node.put("pinned", entry.pinned());
            if (!entry.missing().isEmpty()) {
                // Copies whose manifest is there but whose objects are not all there: they cannot be restored.
                ObjectNode damaged = node.putObject("damaged");
                new java.util.TreeMap<>(entry.missing()).forEach((repository, objects) -> {
                    ArrayNode names = damaged.putArray(repository);
                    objects.forEach(names::add);
                });
            }
            if (entry.verified() == null) {
                node.putNull("verified");
                node.putNull("verification");
            } else {
                node.put("verified", entry.verified().toString());
                com.fasterxml.jackson.databind.JsonNode record = catalog == null ? null : catalog.verification(entry);
                if (record == null) {
                    node.putNull("verification");
                } else {
                    ObjectNode verification = node.putObject("verification");
                    for (String field : List.of("restoreSeconds", "rtoObjectiveSeconds", "rtoMet", "tables", "rows")) {
                        if (record.has(field)) {
                            verification.set(field, record.get(field));
                        }
                    }
                }
            }
            node.put("database", m.database());
            node.put("serverVersion", m.server() == null ? null : m.server().version());
            if (engines.has(m.engine())) {
                engines.get(m.engine()).listFields(m).forEach((field, value) -> node.set(field,
                        ManifestCodec.JSON.valueToTree(value)));
            }
            LogArchive.Coverage coverage = wal.get(entry);
            if (coverage != null) {
                ArrayNode complete = node.putArray("walComplete");
                ObjectNode missing = node.putObject("walMissing");
                coverage.complete().forEach(complete::add);
                coverage.missing().forEach((repository, segments) -> segments.forEach(
                        missing.putArray(repository)::add));
            }
        }
        return array;
    }

    private void printTable(List<CatalogEntry> entries, Map<CatalogEntry, LogArchive.Coverage> wal) {
        if (entries.isEmpty()) {
            out().println(job == null ? "no backups" : "no backups of job " + job);
            return;
        }
        String format = "%-20s  %-16s  %-4s  %-8s  %-20s  %10s  %10s  %-20s  %-16s  %s%n";
        out().printf(format, "ID", "JOB", "TYPE", "METHOD", "FINISHED", "SIZE", "STORED", "VERIFIED", "WAL",
                "REPOSITORIES");
        for (CatalogEntry entry : entries) {
            Manifest m = entry.manifest();
            out().printf(format, m.id(), m.job(), m.type().id(), m.method(), m.finished().truncatedTo(ChronoUnit.SECONDS),
                    Sizes.human(m.sizeBytes()), Sizes.human(m.storedBytes()),
                    entry.verified() == null ? "-" : entry.verified().truncatedTo(ChronoUnit.SECONDS),
                    walColumn(entry, wal.get(entry)), entry.repositories().stream().map(r -> entry.damagedIn(r)
                            ? r + "(damaged)" : r).collect(java.util.stream.Collectors.joining(","))
                            + (entry.pinned() ? "  pinned" : ""));
        }
    }

    /**
     * {@code -} for a backup that needs no WAL; {@code ok} when every repository holding it has its WAL; else which
     * lack some ({@code missing:local}) and which could not be checked ({@code unknown:s3}).
     */
    private static String walColumn(CatalogEntry entry, LogArchive.Coverage coverage) {
        if (coverage == null) {
            return "-";
        }
        List<String> unknown = entry.repositories().stream().filter(r -> !coverage.complete().contains(r)
                && !coverage.missing().containsKey(r)).toList();
        if (coverage.missing().isEmpty() && unknown.isEmpty()) {
            return "ok";
        }
        return ((coverage.missing().isEmpty() ? "" : "missing:" + String.join(",", coverage.missing().keySet()) + " ")
                + (unknown.isEmpty() ? "" : "unknown:" + String.join(",", unknown))).strip();
    }
}
