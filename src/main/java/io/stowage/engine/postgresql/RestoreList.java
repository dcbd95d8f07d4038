package io.stowage.engine.postgresql;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The table of contents of a custom-format archive as {@code pg_restore --list --verbose} prints it, and the
 * selection of the entries that belong to one table, written back as a list for {@code pg_restore --use-list}.
 *
 * <p>An entry line is {@code ID; TABLEOID OID DESC SCHEMA TAG OWNER}, followed with {@code --verbose} by
 * {@code ;\tdepends on: ID ID ...}. What belongs to a table is found through these dependencies, not by name alone:
 * its data, the sequences it owns (serial and identity) with their OWNED BY and current value, its defaults,
 * constraints, indexes, triggers, rules and policies, and the comments, grants and security labels on any of these.
 * Foreign keys declared on the table come along; foreign keys of other tables that point at it do not. Functions,
 * types, domains, sequences and extensions the selection uses but does not own are {@link Selection#needs() needs}:
 * the caller restores those only where the target lacks them.
 */
public final class RestoreList {
    /** Entry kinds, longest first so that "SEQUENCE OWNED BY" is not read as "SEQUENCE". */
    private static final List<String> KINDS = List.of("MATERIALIZED VIEW DATA", "SEQUENCE OWNED BY", "DEFAULT ACL",
            "FK CONSTRAINT", "CHECK CONSTRAINT", "SECURITY LABEL", "SEQUENCE SET", "FOREIGN TABLE", "TABLE ATTACH",
            "INDEX ATTACH", "ROW SECURITY", "TABLE DATA", "LARGE OBJECT", "BLOB", "BLOBS", "MATERIALIZED VIEW",
            "CONSTRAINT", "STATISTICS", "EXTENSION", "SEQUENCE", "FUNCTION", "PROCEDURE", "AGGREGATE", "COLLATION",
            "TRIGGER", "COMMENT", "DEFAULT", "DOMAIN", "POLICY", "SCHEMA", "INDEX", "TABLE", "TYPE", "VIEW", "RULE",
            "ACL");
    /** What a table owns: included when it depends on the table or on something of the table already included. */
    private static final Set<String> OWNED = Set.of("TABLE DATA", "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET",
            "DEFAULT", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "INDEX", "TRIGGER", "RULE", "POLICY",
            "ROW SECURITY", "COMMENT", "ACL", "SECURITY LABEL", "STATISTICS");
    /** Owned kinds whose tag starts with the name of the table they are on. */
    private static final Set<String> ON_TABLE = Set.of("DEFAULT", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT",
            "TRIGGER", "RULE", "POLICY", "ROW SECURITY");
    /** Objects a table may use without owning them. */
    private static final Set<String> NEEDED = Set.of("FUNCTION", "TYPE", "DOMAIN", "SEQUENCE", "EXTENSION");

    /** One entry of the list: {@code line} is written back as it was read. */
    public record Entry(int id, String kind, String schema, String tag, String line, List<Integer> dependencies) {
        /** For entries on a table (constraints, triggers, defaults): whether the tag names that table. */
        boolean on(String table) {
            return tag.startsWith(table + " ");
        }
    }

    /** An entry that the selection uses without owning, and where it would come from. */
    public record Selection(List<Entry> entries, List<Entry> needs, Map<Entry, List<Entry>> foreignKeys) {
    }

    private final List<Entry> entries;

    private RestoreList(List<Entry> entries) {
        this.entries = entries;
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The list file for {@code pg_restore --use-list}: the chosen entries, in archive order. */
    public String listFile(Collection<Entry> chosen) {
        Set<Integer> ids = chosen.stream().map(Entry::id).collect(Collectors.toSet());
        return entries.stream().filter(e -> ids.contains(e.id())).map(e -> e.line() + "\n").collect(Collectors.joining());
    }

    /** Reads the output of {@code pg_restore --list --verbose}. */
    public static RestoreList parse(List<String> lines) {
        List<Entry> entries = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith(";\tdepends on:") && !entries.isEmpty()) {
                Entry last = entries.remove(entries.size() - 1);
                List<Integer> deps = new ArrayList<>(last.dependencies());
                for (String id : line.substring(";\tdepends on:".length()).trim().split("\\s+")) {
                    if (!id.isEmpty()) {
                        deps.add(Integer.parseInt(id));
                    }
                }
                entries.add(new Entry(last.id(), last.kind(), last.schema(), last.tag(), last.line(), List.copyOf(deps)));
                continue;
            }
            Entry entry = parseEntry(line);
            if (entry != null) {
                entries.add(entry);
            }
        }
        return new RestoreList(List.copyOf(entries));
    }

    /** {@code ID; TABLEOID OID KIND SCHEMA TAG OWNER}; null for comments and anything else. */
    static Entry parseEntry(String line) {
        int semicolon = line.indexOf("; ");
        if (line.startsWith(";") || semicolon <= 0 || !line.substring(0, semicolon).chars().allMatch(Character::isDigit)) {
            return null;
        }
        String[] head = line.substring(semicolon + 2).split(" ", 3);
        if (head.length < 3) {
            return null;
        }
        String rest = head[2];
        for (String kind : KINDS) {
            if (rest.startsWith(kind + " ")) {
                String[] parts = rest.substring(kind.length() + 1).split(" ", 2);
                String schema = parts[0];
                String tagAndOwner = parts.length > 1 ? parts[1] : "";
                int lastSpace = tagAndOwner.lastIndexOf(' ');
                String tag = lastSpace < 0 ? tagAndOwner : tagAndOwner.substring(0, lastSpace);
                return new Entry(Integer.parseInt(line.substring(0, semicolon)), kind, schema, tag.stripTrailing(), line,
                        List.of());
            }
        }
        // A kind this version does not know: kept in the list (for ids), never selected.
        return new Entry(Integer.parseInt(line.substring(0, semicolon)), "?", "", "", line, List.of());
    }

    /** The TABLE entry of {@code table}, if the archive has it. */
    public Entry table(TableName table) {
        return entries.stream().filter(e -> e.kind().equals("TABLE") && e.schema().equals(table.schema())
                && e.tag().equals(table.name())).findFirst().orElse(null);
    }

    public Entry byId(int id) {
        return entries.stream().filter(e -> e.id() == id).findFirst().orElse(null);
    }

    /**
     * Everything that belongs to {@code table} (see the class comment), in archive order; the foreign keys declared on
     * it, each with the tables it references; and what the selection needs without owning. Null when the archive
     * does not hold the table.
     */
    public Selection select(TableName table) {
        Entry root = table(table);
        if (root == null) {
            return null;
        }
        Set<Integer> included = new LinkedHashSet<>(List.of(root.id()));
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Entry e : entries) {
                if (included.contains(e.id()) || !OWNED.contains(e.kind())
                        || e.dependencies().stream().noneMatch(included::contains)) {
                    continue;
                }
                if (ON_TABLE.contains(e.kind()) && !(e.schema().equals(table.schema()) && e.on(table.name()))) {
                    continue; // another table's constraint or default that only uses something of ours
                }
                if (e.kind().equals("SEQUENCE") && !e.dependencies().contains(root.id())) {
                    continue; // a sequence is the table's when it depends on the table (OWNED BY, identity)
                }
                included.add(e.id());
                grew = true;
            }
        }
        List<Entry> chosen = entries.stream().filter(e -> included.contains(e.id())).toList();
        Predicate<Entry> needed = e -> e != null && !included.contains(e.id()) && NEEDED.contains(e.kind());
        Set<Entry> needs = new LinkedHashSet<>();
        Map<Entry, List<Entry>> foreignKeys = new java.util.LinkedHashMap<>();
        for (Entry e : chosen) {
            for (int dep : e.dependencies()) {
                Entry d = byId(dep);
                if (e.kind().equals("FK CONSTRAINT")) {
                    continue; // what a foreign key references is the referenced table, checked by the caller
                }
                if (needed.test(d)) {
                    needs.add(d);
                }
            }
            if (e.kind().equals("FK CONSTRAINT")) {
                foreignKeys.put(e, e.dependencies().stream().map(this::byId)
                        .filter(d -> d != null && d.kind().equals("TABLE") && d.id() != root.id()).toList());
            }
        }
        return new Selection(chosen, List.copyOf(needs), foreignKeys);
    }

    /** The value of a needed sequence comes with it. */
    public List<Entry> sequenceSets(Entry sequence) {
        return entries.stream().filter(e -> e.kind().equals("SEQUENCE SET") && e.dependencies().contains(sequence.id()))
                .toList();
    }

    /**
     * The table a foreign key's SQL ({@code ... FOREIGN KEY (...) REFERENCES schema.table(...)}, as pg_dump writes
     * it, schema-qualified) references; null if the text has none.
     */
    public static TableName referencedTable(String sql) {
        int at = sql.indexOf(" REFERENCES ");
        if (at < 0) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        int i = at + " REFERENCES ".length();
        while (i < sql.length()) {
            StringBuilder part = new StringBuilder();
            if (sql.charAt(i) == '"') {
                i++;
                while (i < sql.length()) {
                    char c = sql.charAt(i++);
                    if (c == '"') {
                        if (i < sql.length() && sql.charAt(i) == '"') {
                            part.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        part.append(c);
                    }
                }
            } else {
                while (i < sql.length() && ".( ;\n".indexOf(sql.charAt(i)) < 0) {
                    part.append(sql.charAt(i++));
                }
            }
            parts.add(part.toString());
            if (i < sql.length() && sql.charAt(i) == '.') {
                i++;
            } else {
                break;
            }
        }
        return parts.size() == 2 ? new TableName(parts.get(0), parts.get(1))
                : parts.size() == 1 ? new TableName("public", parts.get(0)) : null;
    }
}
