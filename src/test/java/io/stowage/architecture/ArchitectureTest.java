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

    /** The engines, by package. */
    private static final Set<String> ENGINES = Set.of("postgresql");

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
