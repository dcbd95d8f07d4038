package io.stowage.engine;

import io.stowage.catalog.Manifest;
import io.stowage.job.Probe;
import java.util.List;

/**
 * A backup restored into a scratch target for verification. {@link #probe} runs the engine's built-in probes (what
 * the manifest recorded: rows or keys per table or database, indexes) and the operator's; {@link #close} removes
 * the scratch target, always.
 */
public interface ScratchRestore extends AutoCloseable {

    /** Probes the restored copy. A failed probe throws, naming it, what it found and what was expected. */
    Probes probe(Manifest manifest, List<Probe> probes) throws Exception;

    @Override
    void close();

    /** One probe's outcome: {@code result} is passed or skipped. {@code kind}: built-in or operator. */
    record Outcome(String name, String kind, String result, String value, String expected) {
        public static Outcome passed(String name, String value, String expected) {
            return new Outcome(name, "built-in", "passed", value, expected);
        }
    }

    /**
     * What probing found: how many tables (or databases, or key spaces) and rows (or keys) it read, and each probe's
     * outcome. {@code summary}: the engine's words for the command's line ({@code 12 tables, 3400 rows read, row counts
     * as recorded; indexes valid}).
     */
    record Probes(int tables, long rows, List<Outcome> outcomes, String summary) {
        public Probes {
            outcomes = List.copyOf(outcomes);
        }
    }
}
