package io.synod.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The launcher finds the checkout it runs from and refuses clearly when the chaos module is not built. */
class ChaosCommandTest {
    @Test
    void rootIsTheCheckoutHoldingCliTargetClasses() {
        Path root = ChaosCommand.repositoryRoot();
        assertThat(root.resolve("cli").resolve("pom.xml")).exists();
    }

    @Test
    void missingChaosBuildIsAUsageError(@TempDir Path empty) {
        String old = System.getProperty("synod.root");
        System.setProperty("synod.root", empty.toString());
        try {
            assertThat(new CommandLine(new Main()).execute("chaos", "--scenario", "mixed")).isEqualTo(2);
        } finally {
            if (old == null) System.clearProperty("synod.root");
            else System.setProperty("synod.root", old);
        }
    }
}
