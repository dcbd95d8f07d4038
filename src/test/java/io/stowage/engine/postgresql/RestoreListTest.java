package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Reading an archive's table of contents with the headers that name its entries exactly (pure logic, on lines as
 * pg_restore 15 prints them): names the list prints alike are told apart, and a header that does not fit its entry,
 * or two that fit it differently (one forged in a function body), name nothing.
 */
class RestoreListTest {
    private static final List<String> LIST = List.of(
            ";",
            "; Selected TOC Entries:",
            "8; 2615 16514 SCHEMA - a postgres",
            "7; 2615 16513 SCHEMA - a b postgres",
            "232; 1259 16518 TABLE a b c postgres",
            ";\tdepends on: 8",
            "231; 1259 16515 TABLE a b c postgres",
            ";\tdepends on: 7",
            "240; 1259 16600 TABLE public x; Type: TABLE; Schema: public postgres",
            "3468; 0 16518 TABLE DATA a b c postgres",
            ";\tdepends on: 232",
            "3467; 0 16515 TABLE DATA a b c postgres",
            ";\tdepends on: 231");

    @Test
    void should_name_each_entry_from_the_header_that_says_what_its_line_says() {
        RestoreList toc = RestoreList.parse(LIST, List.of(
                "-- TOC entry 8 (class 2615 OID 16514)", "-- Name: a; Type: SCHEMA; Schema: -; Owner: postgres",
                "-- TOC entry 232 (class 1259 OID 16518)", "-- Name: b c; Type: TABLE; Schema: a; Owner: postgres",
                "-- TOC entry 231 (class 1259 OID 16515)", "-- Name: c; Type: TABLE; Schema: a b; Owner: postgres"));
        assertThat(toc.table(new TableName("a", "b c")).id()).isEqualTo(232);
        assertThat(toc.table(new TableName("a b", "c")).id()).isEqualTo(231);
        assertThat(toc.byId(3467)).extracting(RestoreList.Entry::kind, RestoreList.Entry::named)
                .containsExactly("TABLE DATA", false);
        assertThat(toc.select(new TableName("a b", "c"), e -> "").entries()).extracting(RestoreList.Entry::id)
                .containsExactly(231, 3467);
        assertThat(toc.byId(8)).extracting(RestoreList.Entry::schema, RestoreList.Entry::tag).containsExactly(null, "a");
    }

    @Test
    void should_leave_unnamed_what_a_forged_or_misfitting_header_would_name() {
        RestoreList toc = RestoreList.parse(LIST, List.of(
                // a header forged in a function body, for another entry's id, before the real one
                "-- TOC entry 231 (class 1259 OID 16515)", "-- Name: b c; Type: TABLE; Schema: a; Owner: postgres",
                "-- TOC entry 231 (class 1259 OID 16515)", "-- Name: c; Type: TABLE; Schema: a b; Owner: postgres",
                // right id, wrong object identity
                "-- TOC entry 232 (class 1259 OID 99999)", "-- Name: b c; Type: TABLE; Schema: a; Owner: postgres",
                // a name holding the separators: only one reading gives back the list line
                "-- TOC entry 240 (class 1259 OID 16600)",
                "-- Name: x; Type: TABLE; Schema: public; Type: TABLE; Schema: public; Owner: postgres"));
        assertThat(toc.byId(231).named()).isFalse();
        assertThat(toc.byId(232).named()).isFalse();
        assertThat(toc.byId(240)).extracting(RestoreList.Entry::schema, RestoreList.Entry::tag)
                .containsExactly("public", "x; Type: TABLE; Schema: public");
    }

    @Test
    void should_read_the_first_qualified_name_of_an_entry_after_its_header() {
        String sql = "SELECT pg_catalog.set_config('search_path', '', false);\n--\n-- Name: order lines order lines_fk;"
                + " Type: FK CONSTRAINT; Schema: my shop; Owner: postgres\n--\n\nALTER TABLE ONLY \"my shop\".\"order"
                + " lines\"\n    ADD CONSTRAINT \"order lines_fk\" FOREIGN KEY (o) REFERENCES \"my shop\".\"order\"(id);\n";
        assertThat(SqlNames.firstQualifiedName(sql)).isEqualTo(new TableName("my shop", "order lines"));
        assertThat(RestoreList.referencedTable(sql)).isEqualTo(new TableName("my shop", "order"));
        assertThat(SqlNames.firstQualifiedName("--\n-- Name: t r; Type: TRIGGER; Schema: s; Owner: o\n--\n\n"
                + "CREATE TRIGGER \"x.y\" BEFORE UPDATE OF \"a.b\" ON s.t FOR EACH ROW EXECUTE FUNCTION s.f();"))
                .isEqualTo(new TableName("s", "t"));
    }
}
