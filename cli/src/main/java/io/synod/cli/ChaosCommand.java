package io.synod.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code synod chaos}: the fault-injection harness (module {@code chaos}, class
 * {@code io.synod.chaos.ChaosMain}) run as a child JVM on that module's own class path
 * ({@code chaos/target/classes} plus {@code chaos/target/classpath.txt}, which the build writes).
 * The harness depends on the server, and no module may depend on the harness, so this launcher
 * only passes the arguments through and returns the harness's exit code (1 on any violation).
 */
@Command(name = "chaos", description = "Fault-injection runs against a real multi-process cluster (see chaos/README.md; "
        + "'synod chaos --help' lists the options).")
public final class ChaosCommand implements Callable<Integer> {
    static final String MAIN = "io.synod.chaos.ChaosMain";

    @Unmatched List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path root = repositoryRoot();
        Path classes = root.resolve("chaos/target/classes"), classpath = root.resolve("chaos/target/classpath.txt");
        if (!Files.isDirectory(classes) || !Files.exists(classpath)) {
            System.err.println("synod chaos: " + classes + " or " + classpath + " is missing; build first (bin/synod build)");
            return 2;
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var cmd = new ArrayList<>(List.of(java, "-ea", "-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED"));
        if (Runtime.version().feature() >= 24) cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.addAll(List.of("-cp", classes + ":" + Files.readString(classpath, StandardCharsets.UTF_8).strip(), MAIN));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        // Ctrl-C reaches the child too (same process group); waiting lets its shutdown hook tear the cluster down.
        return p.waitFor();
    }

    /** The checkout this CLI runs from: {@code <root>/cli/target/classes} is where bin/synod loads it. */
    static Path repositoryRoot() {
        String override = System.getProperty("synod.root");
        if (override != null) return Path.of(override);
        try {
            Path here = Path.of(ChaosCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return here.getParent().getParent().getParent();
        } catch (java.net.URISyntaxException e) {
            return Path.of("").toAbsolutePath();
        }
    }
}
