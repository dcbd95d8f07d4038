package io.stowage.engine.postgresql;

import io.stowage.StowageException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The table of contents of a custom-format archive, and the selection of the entries that belong to one table,
 * written back as a list for {@code pg_restore --use-list}.
 *
 * <p>{@code pg_restore --list --verbose} gives every entry ({@code ID; CLASS OID KIND SCHEMA TAG OWNER}) with its
 * dependencies ({@code ;\tdepends on: ID ...}), but prints the names unquoted: a schema "a b" with a table "c" and a
 * schema "a" with a table "b c" make the same line. The exact names come from the headers pg_restore writes before
 * each schema entry of a script ({@link PgRestore#headers}: {@code -- TOC entry ID (class C OID O)} and
 * {@code -- Name: TAG; Type: KIND; Schema: SCHEMA; Owner: OWNER}): a header is taken for an entry only when it says
 * exactly what the entry's list line says, and an entry that two different readings fit (a header forged inside a
 * function body, say) stays unnamed, never guessed.
 *
 * <p>What belongs to a table is found through the dependencies, not by name alone: its data, the sequences it owns
 * (serial and identity) with their OWNED BY and current value, its defaults, constraints, indexes, triggers, rules
 * and policies, and the comments, grants and security labels on any of these. A partitioned table comes with its
 * whole tree: every partition (found through the {@code TABLE ATTACH} entries, recursively) with what belongs to
 * each, and the {@code TABLE ATTACH} and {@code INDEX ATTACH} entries that join them. A partition comes with its
 * own subtree and the entries that attach it (and its indexes) to its parent, which the caller restores last.
 * Foreign keys declared on the tables come along; foreign keys of other tables that point at them do not.
 * Functions, types, domains, sequences and extensions the selection uses but does not own are
 * {@link Selection#needs() needs}: the caller restores those only where the target lacks them.
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
    /** Owned kinds whose tag is the name of the table they are on, a space, and their own name. */
    private static final Set<String> ON_TABLE = Set.of("DEFAULT", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT",
            "TRIGGER", "RULE", "POLICY", "ROW SECURITY");
    /** Objects a table may use without owning them. */
    private static final Set<String> NEEDED = Set.of("FUNCTION", "TYPE", "DOMAIN", "SEQUENCE", "EXTENSION");
    private static final Pattern LINE = Pattern.compile("(\\d+); (\\d+) (\\d+) (.*)", Pattern.DOTALL);
    private static final Pattern TOC_HEADER = Pattern.compile("-- TOC entry (\\d+) \\(class (\\d+) OID (\\d+)\\)");
    private static final String NAME_HEADER = "-- Name: ";

    /**
     * One entry of the list: {@code line} is written back as it was read. {@code schema} and {@code tag} are the
     * exact names, or null where no header named the entry unambiguously (data entries have no header; their
     * table is the entry they depend on); {@code schema} is null too for objects outside any schema.
     */
    public record Entry(int id, String kind, String schema, String tag, String line, List<Integer> dependencies,
                        boolean named) {
    }

    /**
     * The entries of one table, in archive order ({@code entries}), except those that attach a partition and its
     * indexes to a parent outside the selection ({@code attachLast}), which must run after the partition has its
     * rows, constraints and indexes: attached first, PostgreSQL would build the parent's indexes on it, and the
     * partition's own would then clash. {@code tables} are the tables restored (the table first, then its
     * partitions); {@code parent} the parent of a partition (null otherwise); {@code foreignKeys} each foreign key
     * declared on those tables with the table it is on; {@code needs} what the selection uses without owning.
     */
    public record Selection(List<Entry> entries, List<Entry> attachLast, List<TableName> tables, TableName parent,
                            List<Entry> needs, Map<Entry, TableName> foreignKeys) {
        public List<Entry> all() {
            List<Entry> all = new ArrayList<>(entries);
            all.addAll(attachLast);
            return all;
        }
    }

    /** The SQL that pg_restore writes for one entry: for the rare entry its name alone cannot place. */
    @FunctionalInterface
    public interface Scripts {
        String sql(Entry entry);
    }

    private final List<Entry> entries;
    private final Map<Integer, Entry> byId = new HashMap<>();

    private RestoreList(List<Entry> entries) {
        this.entries = entries;
        entries.forEach(e -> byId.put(e.id(), e));
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The list file for {@code pg_restore --use-list}: {@code chosen}, in archive order. */
    public String listFile(Collection<Entry> chosen) {
        Set<Integer> ids = chosen.stream().map(Entry::id).collect(Collectors.toSet());
        return entries.stream().filter(e -> ids.contains(e.id())).map(e -> e.line() + "\n").collect(Collectors.joining());
    }

    /** The list file of a selection: its entries in archive order, then those that attach it to its parent. */
    public String listFile(Selection selection, Collection<Entry> chosen) {
        Set<Integer> last = selection.attachLast().stream().map(Entry::id).collect(Collectors.toSet());
        return listFile(chosen.stream().filter(e -> !last.contains(e.id())).toList())
                + listFile(selection.attachLast());
    }

    /**
     * Reads the output of {@code pg_restore --list --verbose} ({@code list}) and the headers of its script
     * ({@code headers}, see {@link PgRestore#headers}).
     */
    public static RestoreList parse(List<String> list, List<String> headers) {
        record Line(int id, String tableOid, String oid, String rest, String text, List<Integer> dependencies) {
        }
        List<Line> lines = new ArrayList<>();
        for (String text : list) {
            if (text.startsWith(";\tdepends on:") && !lines.isEmpty()) {
                Line last = lines.remove(lines.size() - 1);
                List<Integer> deps = new ArrayList<>(last.dependencies());
                for (String id : text.substring(";\tdepends on:".length()).trim().split("\\s+")) {
                    if (!id.isEmpty()) {
                        deps.add(Integer.parseInt(id));
                    }
                }
                lines.add(new Line(last.id(), last.tableOid(), last.oid(), last.rest(), last.text(),
                        List.copyOf(deps)));
                continue;
            }
            Matcher m = LINE.matcher(text);
            if (m.matches()) {
                lines.add(new Line(Integer.parseInt(m.group(1)), m.group(2), m.group(3), m.group(4), text, List.of()));
            }
        }
        Map<Integer, Line> byId = new HashMap<>();
        lines.forEach(l -> byId.put(l.id(), l));
        Map<Integer, Set<Names>> readings = new HashMap<>();
        Line current = null;
        for (String header : headers) {
            Matcher toc = TOC_HEADER.matcher(header);
            if (toc.matches()) {
                Line line = byId.get(Integer.parseInt(toc.group(1)));
                current = line != null && line.tableOid().equals(toc.group(2)) && line.oid().equals(toc.group(3))
                        ? line : null;
            } else if (header.startsWith(NAME_HEADER) && current != null) {
                readings.computeIfAbsent(current.id(), id -> new LinkedHashSet<>())
                        .addAll(Names.readings(header.substring(NAME_HEADER.length()), current.rest()));
                current = null;
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (Line l : lines) {
            Set<Names> names = readings.getOrDefault(l.id(), Set.of());
            if (names.size() == 1) {
                Names n = names.iterator().next();
                entries.add(new Entry(l.id(), n.kind(), n.schema(), n.tag(), l.text(), l.dependencies(), true));
            } else {
                entries.add(new Entry(l.id(), kindOf(l.rest()), null, null, l.text(), l.dependencies(), false));
            }
        }
        return new RestoreList(List.copyOf(entries));
    }

    /** One reading of a header: its kind, schema (null for none) and tag. */
    private record Names(String kind, String schema, String tag) {
        /**
         * Every split of {@code TAG; Type: KIND; Schema: SCHEMA; Owner: OWNER} that gives back the list line's
         * {@code KIND SCHEMA TAG OWNER} ({@code rest}): the list leaves an empty owner empty, the header writes "-".
         */
        static List<Names> readings(String header, String rest) {
            List<Names> found = new ArrayList<>();
            for (int type : occurrences(header, "; Type: ")) {
                String tag = header.substring(0, type);
                String afterType = header.substring(type + "; Type: ".length());
                for (int schemaAt : occurrences(afterType, "; Schema: ")) {
                    String kind = afterType.substring(0, schemaAt);
                    String afterSchema = afterType.substring(schemaAt + "; Schema: ".length());
                    for (int ownerAt : occurrences(afterSchema, "; Owner: ")) {
                        String schema = afterSchema.substring(0, ownerAt);
                        String owner = afterSchema.substring(ownerAt + "; Owner: ".length());
                        String head = kind + " " + schema + " " + tag + " ";
                        if (rest.equals(head + owner) || owner.equals("-") && rest.equals(head)) {
                            found.add(new Names(kind, schema.equals("-") ? null : schema, tag));
                        }
                    }
                }
            }
            return found;
        }

        private static List<Integer> occurrences(String text, String separator) {
            List<Integer> at = new ArrayList<>();
            for (int i = text.indexOf(separator); i >= 0; i = text.indexOf(separator, i + 1)) {
                at.add(i);
            }
            return at;
        }
    }

    /** The kind at the start of {@code KIND SCHEMA TAG OWNER}, for entries no header names (data, mostly). */
    private static String kindOf(String rest) {
        for (String kind : KINDS) {
            if (rest.startsWith(kind + " ")) {
                return kind;
            }
        }
        return "?"; // a kind this version does not know: kept in the list (for ids), never selected
    }

    public Entry byId(int id) {
        return byId.get(id);
    }

    private TableName nameOf(Entry table) {
        return table != null && table.named() && table.schema() != null ? new TableName(table.schema(), table.tag())
                : null;
    }

    /** The TABLE entry of {@code table}, if the archive has it. */
    public Entry table(TableName table) {
        Entry found = entries.stream().filter(e -> e.kind().equals("TABLE") && table.equals(nameOf(e))).findFirst()
                .orElse(null);
        if (found == null && entries.stream().anyMatch(e -> !e.named() && e.kind().equals("TABLE")
                && e.line().contains(" TABLE " + table.schema() + " " + table.name() + " "))) {
            throw new StowageException("table " + table + " cannot be told apart from another entry of the archive's "
                    + "table of contents; HINT: restore the whole backup into another database and take the table "
                    + "from there");
        }
        return found;
    }

    /** The TABLE entries among {@code entry}'s dependencies. */
    private List<Entry> tablesUsedBy(Entry entry) {
        return entry.dependencies().stream().distinct().map(byId::get)
                .filter(d -> d != null && d.kind().equals("TABLE")).toList();
    }

    /** Partitions: each partition's TABLE ATTACH entry, by the id of the partition's TABLE entry. */
    private Map<Integer, Entry> attachments() {
        Map<Integer, Entry> attach = new HashMap<>();
        for (Entry e : entries) {
            if (e.kind().equals("TABLE ATTACH")) {
                Entry child = childOf(e);
                if (child != null) {
                    attach.put(child.id(), e);
                }
            }
        }
        return attach;
    }

    /** The partition a TABLE ATTACH entry attaches: of its two tables, the one that depends on the other. */
    private Entry childOf(Entry attach) {
        List<Entry> tables = tablesUsedBy(attach);
        if (tables.size() != 2) {
            return null;
        }
        return tables.get(0).dependencies().contains(tables.get(1).id()) ? tables.get(0)
                : tables.get(1).dependencies().contains(tables.get(0).id()) ? tables.get(1) : null;
    }

    private Entry parentOf(Entry attach, Entry child) {
        return tablesUsedBy(attach).stream().filter(t -> t.id() != child.id()).findFirst().orElse(null);
    }

    /**
     * Everything that belongs to {@code table} (see the class comment), or null when the archive does not hold the
     * table. {@code scripts} is asked for the SQL of an entry whose tag fits more than one of the tables it depends
     * on (tables "order" and "order lines": "order lines order lines_fkey" could be either's).
     */
    public Selection select(TableName table, Scripts scripts) {
        Entry root = table(table);
        if (root == null) {
            return null;
        }
        Map<Integer, Entry> attach = attachments();
        Map<Integer, List<Entry>> children = new HashMap<>();
        attach.forEach((child, e) -> {
            Entry parent = parentOf(e, byId.get(child));
            if (parent != null) {
                children.computeIfAbsent(parent.id(), p -> new ArrayList<>()).add(byId.get(child));
            }
        });
        List<Entry> tree = new ArrayList<>(List.of(root));
        for (int i = 0; i < tree.size(); i++) {
            tree.addAll(children.getOrDefault(tree.get(i).id(), List.of()));
        }
        Set<Integer> tables = tree.stream().map(Entry::id).collect(Collectors.toSet());
        Entry rootAttach = attach.get(root.id());
        Entry parent = rootAttach == null ? null : parentOf(rootAttach, root);
        if (rootAttach != null && nameOf(parent) == null) {
            throw new StowageException("table " + table + " is a partition whose parent cannot be told apart from "
                    + "another entry of the archive's table of contents; HINT: restore the whole backup into another "
                    + "database and take the table from there");
        }

        Set<Integer> included = new LinkedHashSet<>(tables);
        Map<Entry, TableName> foreignKeys = new LinkedHashMap<>();
        Map<Integer, java.util.Optional<Entry>> placed = new HashMap<>(); // an entry's table, asked once
        boolean grew = true;
        while (grew) {
            grew = false;
            for (Entry e : entries) {
                if (included.contains(e.id()) || !OWNED.contains(e.kind())
                        || e.dependencies().stream().noneMatch(included::contains)) {
                    continue;
                }
                if (ON_TABLE.contains(e.kind())) {
                    Entry on = placed.computeIfAbsent(e.id(), id -> java.util.Optional.ofNullable(tableOf(e, scripts)))
                            .orElse(null);
                    if (on == null || !tables.contains(on.id())) {
                        continue; // another table's constraint or default that only uses something of ours
                    }
                    if (e.kind().equals("FK CONSTRAINT")) {
                        foreignKeys.put(e, nameOf(on));
                    }
                }
                if (e.kind().equals("SEQUENCE") && e.dependencies().stream().noneMatch(tables::contains)) {
                    continue; // a sequence is the table's when it depends on the table (OWNED BY, identity)
                }
                included.add(e.id());
                grew = true;
            }
        }
        List<Entry> last = new ArrayList<>();
        for (Entry e : entries) {
            boolean attaches = e.kind().equals("TABLE ATTACH") || e.kind().equals("INDEX ATTACH");
            if (attaches && tablesUsedBy(e).stream().anyMatch(t -> tables.contains(t.id()))) {
                if (parent != null && e.dependencies().contains(parent.id())) {
                    last.add(e);
                } else {
                    included.add(e.id());
                }
            }
        }
        List<Entry> chosen = entries.stream().filter(e -> included.contains(e.id())).toList();
        Set<Integer> all = new LinkedHashSet<>(included);
        last.forEach(e -> all.add(e.id()));
        Set<Entry> needs = new LinkedHashSet<>();
        for (Entry e : chosen) {
            if (e.kind().equals("FK CONSTRAINT")) {
                continue; // what a foreign key references is the referenced table, checked by the caller
            }
            for (int dep : e.dependencies()) {
                Entry d = byId.get(dep);
                if (d != null && !all.contains(d.id()) && NEEDED.contains(d.kind())) {
                    needs.add(d);
                }
            }
        }
        List<TableName> names = tree.stream().map(this::nameOf).filter(Objects::nonNull).toList();
        return new Selection(chosen, List.copyOf(last), names, nameOf(parent), List.copyOf(needs),
                java.util.Collections.unmodifiableMap(foreignKeys));
    }

    /**
     * The table an entry of an ON_TABLE kind is on: of the tables it depends on, the one whose name (and schema)
     * starts its tag. When that fits more than one (or the entry has no name), the entry's own SQL decides: the
     * first qualified name in it is the table ({@code ALTER TABLE ONLY t}, {@code CREATE TRIGGER x ... ON t},
     * {@code CREATE POLICY x ON t}, {@code CREATE RULE x AS ON ... TO t}).
     */
    private Entry tableOf(Entry entry, Scripts scripts) {
        List<Entry> candidates = tablesUsedBy(entry).stream().filter(t -> {
            TableName name = nameOf(t);
            return name != null && (!entry.named() || name.schema().equals(entry.schema())
                    && entry.tag().startsWith(name.name() + " "));
        }).toList();
        if (candidates.size() <= 1 && entry.named()) {
            return candidates.isEmpty() ? null : candidates.get(0);
        }
        if (candidates.isEmpty()) {
            return null;
        }
        TableName first = SqlNames.firstQualifiedName(scripts.sql(entry));
        return candidates.stream().filter(t -> Objects.equals(nameOf(t), first)).findFirst().orElse(null);
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
        return at < 0 ? null : SqlNames.qualifiedNameAt(sql, at + " REFERENCES ".length());
    }
}
