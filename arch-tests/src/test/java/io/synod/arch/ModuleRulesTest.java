package io.synod.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of docs/architecture.md, checked on the compiled classes: the consensus
 * core is a pure function of its inputs (no I/O, threads, clocks or randomness of its own), the
 * state machine knows nothing of consensus, and the simulator never depends on the server. A rule
 * broken here is a design regression even if every behavioural test still passes.
 */
class ModuleRulesTest {
    static JavaClasses synod;

    @BeforeAll
    static void importClasses() {
        synod = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.synod");
    }

    private static final String[] CONSENSUS = {"io.synod.consensus..", "io.synod.raft.."};

    @Test
    void consensusDependsOnlyOnCommonAndTheJdkCore() {
        classes().that().resideInAnyPackage(CONSENSUS)
                .should().onlyDependOnClassesThat().resideInAnyPackage(
                        "io.synod.common..", "io.synod.consensus..", "io.synod.raft..", "java.lang..", "java.util..", "java.nio")
                .because("the consensus core must run unchanged in the server and the deterministic simulator")
                .check(synod);
    }

    @Test
    void consensusDoesNoIoAndStartsNoThreads() {
        noClasses().that().resideInAnyPackage(CONSENSUS)
                .should().dependOnClassesThat().resideInAnyPackage("java.io..", "java.nio.file..", "java.nio.channels..", "java.net..",
                        "java.util.concurrent..", "java.time..")
                .orShould().dependOnClassesThat().areAssignableTo(Thread.class)
                .because("all I/O, threads and time belong to the driver; the core only sees tick(), step() and Ready")
                .check(synod);
    }

    @Test
    void consensusReadsNoClockAndMakesNoRandomnessOfItsOwn() {
        noClasses().that().resideInAnyPackage(CONSENSUS)
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callConstructor(java.util.Random.class)
                .orShould().callConstructor(java.util.SplittableRandom.class)
                .orShould().callMethod(Math.class, "random")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.concurrent.ThreadLocalRandom")
                .because("time arrives as ticks and randomness from an injected seeded generator, so every run replays from its seed")
                .check(synod);
    }

    @Test
    void stateMachineKnowsNothingOfConsensus() {
        noClasses().that().resideInAPackage("io.synod.mvcc..")
                .should().dependOnClassesThat().resideInAnyPackage(CONSENSUS)
                .check(synod);
    }

    @Test
    void stateMachineAndWatchHubKnowNothingOfTheServerOrGrpc() {
        noClasses().that().resideInAPackage("io.synod.mvcc..")
                .should().dependOnClassesThat().resideInAnyPackage("io.synod.server..", "io.synod.replica..", "io.grpc..", "io.etcd..")
                .because("the watch hub is fed by the store's change feed; the gRPC Watch service lives in server/")
                .check(synod);
    }

    @Test
    void storageDoesNotDependOnTheRaftImplementation() {
        noClasses().that().resideInAPackage("io.synod.storage..")
                .should().dependOnClassesThat().resideInAPackage("io.synod.raft..")
                .because("the log store serves any consensus protocol through consensus-api")
                .check(synod);
    }

    @Test
    void checkerDependsOnNothingButCommon() {
        classes().that().resideInAPackage("io.synod.check..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.synod.check..", "io.synod.common..", "java..")
                .check(synod);
    }

    @Test
    void simulatorNeverDependsOnTheServer() {
        noClasses().that().resideInAPackage("io.synod.sim..")
                .should().dependOnClassesThat().resideInAnyPackage("io.synod.server..", "io.synod.cli..", "io.grpc..")
                .check(synod);
    }

    @Test
    void nothingDependsOnTheChaosHarness() {
        noClasses().that().resideOutsideOfPackage("io.synod.chaos..")
                .should().dependOnClassesThat().resideInAPackage("io.synod.chaos..")
                .because("the fault-injection harness drives the product from outside; `synod chaos` launches it as a separate process")
                .check(synod);
    }
}
