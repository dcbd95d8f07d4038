package io.stowage.engine.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stowage.StowageException;
import org.junit.jupiter.api.Test;

/** Table names from the command line and the referenced table read from a foreign key's SQL (pure logic). */
class TableNameTest {
    @Test
    void should_parse_plain_and_quoted_names_and_refuse_anything_else() {
        assertThat(TableName.parse("orders")).isEqualTo(new TableName("public", "orders"));
        assertThat(TableName.parse("Sales.Orders")).isEqualTo(new TableName("sales", "orders"));
        assertThat(TableName.parse("\"Audit Log\".\"Who \"\"did\"\" it\"")).isEqualTo(new TableName("Audit Log",
                "Who \"did\" it"));
        for (String bad : new String[] {"1x", "a.b.c", "a;b", "\"open", "a.", "\"\""}) {
            assertThatThrownBy(() -> TableName.parse(bad)).isInstanceOf(StowageException.class)
                    .hasMessageContaining("is not [SCHEMA.]NAME");
        }
        assertThatThrownBy(() -> TableName.parse(" ")).hasMessage("--table needs a table name: [SCHEMA.]NAME");
    }

    @Test
    void should_read_the_referenced_table_of_a_foreign_key() {
        assertThat(RestoreList.referencedTable("ALTER TABLE ONLY public.orders\n    ADD CONSTRAINT k FOREIGN KEY (c) "
                + "REFERENCES public.customers(id);")).isEqualTo(new TableName("public", "customers"));
        assertThat(RestoreList.referencedTable("ADD CONSTRAINT k FOREIGN KEY (c) REFERENCES \"Sales\".\"a.b\"(id);"))
                .isEqualTo(new TableName("Sales", "a.b"));
        assertThat(RestoreList.referencedTable("CREATE INDEX i ON t (c);")).isNull();
    }
}
