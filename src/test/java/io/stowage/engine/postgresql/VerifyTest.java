package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stowage.catalog.ManifestCodec;
import io.stowage.testing.SampleDatabase;
import io.stowage.testing.ThrowawayPostgres;
import io.stowage.testing.Workspace;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify: a good backup is proven by a real restore, its row counts, indexes and foreign keys compared with what
 * the backup recorded, and shows as verified; a corrupted one cannot pass; operator probes pass or fail it; the
 * RTO objective is compared with the measured restore.
 */
class VerifyTest {
    @TempDir
    Path dir;

    @Test
    void should_prove_a_backup_by_restoring_it_and_refuse_a_corrupted_one() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "verify_source");
        // A partitioned table with an index and a foreign key: PostgreSQL copies both onto the partitions, which the
        // counts must not mistake for extra ones.
        pg.execute("verify_source",
                "CREATE TABLE public.measurements (id int, at date, v int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
                "CREATE TABLE public.measurements_2025 PARTITION OF public.measurements"
                        + " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
                "CREATE TABLE public.measurements_2026 PARTITION OF public.measurements"
                        + " FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
                "CREATE INDEX measurements_v ON public.measurements (v)",
                "ALTER TABLE public.measurements ADD FOREIGN KEY (v) REFERENCES public.kinds (id)",
                "INSERT INTO public.measurements SELECT g, date '2025-06-01' + g, (g % 100) + 1"
                        + " FROM generate_series(1, 400) g");
        Workspace ws = new Workspace(dir).job("postgres", "verify_source");
        String id = ws.run("backup", "postgres").lastLine();
        JsonNode contents = ManifestCodec.JSON.readTree(ws.repository().resolve("postgres").resolve(id)
                .resolve("manifest.json").toFile()).get("engineDetails").get("contents");
        assertThat(contents.get("tables").get("public.kinds").asLong()).isEqualTo(5004);
        assertThat(contents.get("tables").get("sales.orders").asLong()).isEqualTo(3000);
        assertThat(contents.get("tables").get("Audit Log.Events").asLong()).isEqualTo(2);
        assertThat(contents.get("tables").get("public.measurements_2025").asLong()
                + contents.get("tables").get("public.measurements_2026").asLong()).isEqualTo(400);
        assertThat(contents.get("indexes").asInt()).isEqualTo(4); // orders_kind, measurements_v and its 2 partitions
        assertThat(contents.get("foreignKeys").asInt()).isEqualTo(2);
        // A scratch database left by a verification that was killed is dropped first.
        pg.execute("postgres", "CREATE DATABASE stowage_verify_postgres");

        Workspace.Result verify = ws.run("verify", "postgres");
        assertThat(verify.status()).as(verify.toString()).isZero();
        assertThat(verify.out()).contains("verified backup " + id).contains("objective 14400 s")
                .contains("row counts as recorded").contains("indexes valid");
        assertThat(verify.err()).doesNotContain("RTO objective");
        assertThat(pg.databaseExists("stowage_verify_postgres")).isFalse();
        JsonNode entry = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(0);
        assertThat(Instant.parse(entry.get("verified").asText())).isAfter(Instant.now().minusSeconds(120));
        JsonNode record = verifiedRecord(ws, id);
        // list --json carries the RTO evidence of the newest verification
        assertThat(entry.get("verification").get("restoreSeconds").asDouble())
                .isEqualTo(record.get("restoreSeconds").asDouble()).isPositive();
        assertThat(entry.get("verification").get("rtoObjectiveSeconds").asLong()).isEqualTo(14400);
        assertThat(entry.get("verification").get("rtoMet").asBoolean()).isTrue();
        assertThat(record.get("rtoMet").asBoolean()).isTrue();
        assertThat(record.get("rtoObjectiveSeconds").asLong()).isEqualTo(14400);
        assertThat(record.get("probes").findValuesAsText("name")).containsExactly("connect", "read", "row-counts",
                "indexes-valid", "indexes", "foreign-keys");
        assertThat(record.get("probes").findValuesAsText("result")).containsOnly("passed");

        String second = ws.run("backup", "postgres").lastLine();
        Path object = ws.repository().resolve("postgres").resolve(second).resolve("dump.pgfc.zst");
        try (RandomAccessFile file = new RandomAccessFile(object.toFile(), "rw")) {
            file.seek(file.length() / 2);
            int b = file.read();
            file.seek(file.length() / 2);
            file.write(b ^ 0x40);
        }
        Workspace.Result refused = ws.run("verify", "postgres", "--backup", second);
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).startsWith("error: object 'postgres/" + second + "/dump.pgfc.zst' in repository "
                + "'local' is corrupt");
        assertThat(pg.databaseExists("stowage_verify_postgres")).isFalse();
        JsonNode listed = ManifestCodec.JSON.readTree(ws.run("list", "--json").out()).get(1);
        assertThat(listed.get("id").asText()).isEqualTo(second);
        assertThat(listed.get("verified").isNull()).isTrue();
        pg.dropDatabase("verify_source");
    }

    @Test
    void should_run_operator_probes_check_recorded_counts_and_report_a_missed_rto_objective() throws Exception {
        ThrowawayPostgres pg = ThrowawayPostgres.get();
        SampleDatabase.createManyTypes(pg, "probe_source");
        // The probes as an operator writes them: a block scalar, one per line.
        List<String> probes = List.of("      - name: probes", "        value: |",
                "          # what the business needs from a restore",
                "          orders: SELECT count(*) FROM sales.orders => = 3000",
                "          has_first_event: SELECT EXISTS (SELECT 1 FROM \"Audit Log\".\"Events\" WHERE what = 'first') => true",
                "          big_amounts: SELECT amount FROM sales.orders WHERE amount > 1000 => not empty");
        Workspace ws = new Workspace(dir).job("postgres", "probe_source", probes, "rtoSeconds", "0");
        String id = ws.run("backup", "postgres").lastLine();

        // An objective of 0 s cannot be met: the backup is proven, and the miss is reported.
        Workspace.Result passed = ws.run("verify", "postgres");
        assertThat(passed.status()).as(passed.toString()).isZero();
        assertThat(passed.out()).contains("verified backup " + id).contains("objective 0 s")
                .contains("3 operator probe(s) passed");
        assertThat(passed.err()).containsPattern("warning: the restore took \\d+\\.\\d s, over job postgres's RTO "
                + "objective of 0 s");
        JsonNode record = verifiedRecord(ws, id);
        assertThat(record.get("rtoMet").asBoolean()).isFalse();
        assertThat(record.get("rtoObjectiveSeconds").asLong()).isZero();
        JsonNode orders = probe(record, "orders");
        assertThat(orders.get("kind").asText()).isEqualTo("operator");
        assertThat(orders.get("value").asText()).isEqualTo("3000");
        assertThat(orders.get("expected").asText()).isEqualTo("= 3000");

        // A failing operator probe fails the verification, naming the probe, the value and the condition.
        ws.job("postgres", "probe_source", List.of("      - name: probes", "        value: |",
                "          few_orders: SELECT count(*) FROM sales.orders => < 10"));
        Workspace.Result failed = ws.run("verify", "postgres");
        assertThat(failed.status()).as(failed.toString()).isEqualTo(1);
        assertThat(failed.err()).isEqualTo("error: probe 'few_orders' failed: value 3000, expected < 10\n");
        assertThat(pg.databaseExists("stowage_verify_postgres")).isFalse();

        // A probe cannot write: it runs read-only.
        ws.job("postgres", "probe_source", List.of("      - name: probes", "        value: |",
                "          writes: DELETE FROM sales.orders RETURNING 1 => not empty"));
        Workspace.Result readOnly = ws.run("verify", "postgres");
        assertThat(readOnly.status()).isEqualTo(1);
        assertThat(readOnly.err()).startsWith("error: probe 'writes' failed: ERROR: cannot execute DELETE in a "
                + "read-only transaction");

        // A backup whose manifest records another count than the restore finds fails, naming the table and both.
        ws.job("postgres", "probe_source");
        Path manifest = ws.repository().resolve("postgres").resolve(id).resolve("manifest.json");
        ObjectNode tree = (ObjectNode) ManifestCodec.JSON.readTree(manifest.toFile());
        ((ObjectNode) tree.get("engineDetails").get("contents").get("tables")).put("sales.orders", 2999);
        Files.write(manifest, ManifestCodec.JSON.writeValueAsBytes(tree));
        Workspace.Result mismatch = ws.run("verify", "postgres");
        assertThat(mismatch.status()).isEqualTo(1);
        assertThat(mismatch.err()).isEqualTo("error: probe 'row-counts' failed: table sales.orders has 3000 rows "
                + "after the restore, the backup recorded 2999\n");

        // A backup from before counts were recorded is still verified, without that probe.
        ((ObjectNode) tree.get("engineDetails")).remove("contents");
        Files.write(manifest, ManifestCodec.JSON.writeValueAsBytes(tree));
        Workspace.Result older = ws.run("verify", "postgres");
        assertThat(older.status()).as(older.toString()).isZero();
        assertThat(older.out()).doesNotContain("row counts");
        assertThat(probe(verifiedRecord(ws, id), "row-counts").get("result").asText()).isEqualTo("skipped");
        pg.dropDatabase("probe_source");
    }

    @Test
    void should_refuse_a_malformed_probe_or_objective_at_start() throws Exception {
        Workspace ws = new Workspace(dir).job("postgres", "postgres", List.of("      - name: probes",
                "        value: |", "          fine: SELECT 1 => = 1", "          orders: SELECT count(*) FROM t => >> 3"));
        Workspace.Result check = ws.run("check");
        assertThat(check.status()).isEqualTo(2);
        assertThat(check.err()).isEqualTo("error: job 'postgres': probe 'orders' has condition '>> 3', which is not "
                + "one of > n, >= n, = n, != n, < n, <= n, true, false, empty or not empty\n");

        ws.job("postgres", "postgres", List.of("      - name: probes", "        value: |",
                "          SELECT count(*) FROM t > 3"));
        Workspace.Result noName = ws.run("verify", "postgres");
        assertThat(noName.status()).isEqualTo(2);
        assertThat(noName.err()).isEqualTo("error: job 'postgres': probe on line 1 ('SELECT count(*) FROM t > 3') is "
                + "malformed: write NAME: SQL => CONDITION\n");

        ws.job("postgres", "postgres", "rtoSeconds", "4h");
        Workspace.Result objective = ws.run("check");
        assertThat(objective.status()).isEqualTo(2);
        assertThat(objective.err()).isEqualTo("error: job 'postgres': rtoSeconds '4h' is not a number of seconds "
                + "(0 or more)\n");
    }

    private static JsonNode verifiedRecord(Workspace ws, String id) throws Exception {
        Path newest;
        try (Stream<Path> files = Files.list(ws.repository().resolve("postgres").resolve(id))) {
            newest = files.filter(f -> f.getFileName().toString().startsWith("verified-"))
                    .max(java.util.Comparator.naturalOrder()).orElseThrow();
        }
        return ManifestCodec.JSON.readTree(newest.toFile());
    }

    private static JsonNode probe(JsonNode record, String name) {
        for (JsonNode probe : record.get("probes")) {
            if (probe.get("name").asText().equals(name)) {
                return probe;
            }
        }
        throw new AssertionError("no probe " + name + " in " + record);
    }
}
