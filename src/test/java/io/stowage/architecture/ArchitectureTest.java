package io.stowage.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The layout the code keeps: packages without cycles, and every engine behind the engine interface, used from
 * outside its package only by the one place that registers engines.
 */
class ArchitectureTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.stowage");

    /** The engines, by package: every package directly under io.stowage.engine. */
    private static final Set<String> ENGINES = CLASSES.stream().map(c -> c.getPackageName())
            .filter(p -> p.startsWith("io.stowage.engine."))
            .map(p -> p.substring("io.stowage.engine.".length()).split("\\.")[0])
            .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));

    @Test
    void engines_are_found() {
        org.assertj.core.api.Assertions.assertThat(ENGINES).contains("postgresql", "redis");
    }

    /** No code outside an engine's package compares or names the engine: a quoted engine name is nowhere else. */
    @Test
    void no_engine_name_is_written_outside_its_engine() throws Exception {
        java.util.List<String> found = new java.util.ArrayList<>();
        java.nio.file.Path main = java.nio.file.Path.of("src/main/java/io/stowage");
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(main)) {
            for (java.nio.file.Path file : files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !main.relativize(f).toString().startsWith("engine/")).toList()) {
                java.util.List<String> lines = java.nio.file.Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    for (String engine : ENGINES) {
                        if (lines.get(i).contains("\"" + engine + "\"")) {
                            found.add(main.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                }
            }
        }
        org.assertj.core.api.Assertions.assertThat(found).isEmpty();
    }

    @Test
    void packages_form_no_cycle() {
        slices().matching("io.stowage.(**)").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void an_engine_is_used_from_outside_its_package_only_where_engines_are_registered() {
        for (String engine : ENGINES) {
            String inside = "io.stowage.engine." + engine + "..";
            noClasses().that().resideOutsideOfPackage(inside)
                    .and().doNotHaveFullyQualifiedName("io.stowage.runtime.EngineCatalog")
                    .should().dependOnClassesThat().resideInAPackage(inside)
                    .because("code outside an engine asks the engine interface (io.stowage.engine.Engine)")
                    .check(CLASSES);
        }
    }

    @Test
    void engines_do_not_use_the_layers_above_them() {
        noClasses().that().resideInAPackage("io.stowage.engine..")
                .should().dependOnClassesThat().resideInAnyPackage("io.stowage.cli..", "io.stowage.route..",
                        "io.stowage.runtime..", "io.stowage.services..", "io.stowage.schedule..")
                .because("an engine sees the common machinery through io.stowage.engine.EngineContext")
                .check(CLASSES);
    }

    @Test
    void engines_do_not_use_each_other() {
        for (String engine : ENGINES) {
            for (String other : ENGINES) {
                if (!other.equals(engine)) {
                    noClasses().that().resideInAPackage("io.stowage.engine." + engine + "..")
                            .should().dependOnClassesThat().resideInAPackage("io.stowage.engine." + other + "..")
                            .check(CLASSES);
                }
            }
        }
    }
}
