package io.synod.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Proves the simulator can catch bugs: for each mutation in {@code mutations.txt} it compiles a
 * copy of the Raft core with that one safety rule broken, runs the simulator against the mutant
 * in an isolated class loader, and requires a reported violation within the seed budget. The
 * production core has no switch for these bugs; mutants exist only in a temporary directory.
 */
class MutationCheckTest {
    /** Seeds each mutant may run before it counts as "not caught" (the CI budget). */
    static final int SEED_BUDGET = Integer.getInteger("synod.mutation.seeds", 500);

    record Mutation(String name, String file, String find, String replace) {}

    static List<Mutation> mutations() throws IOException {
        var out = new ArrayList<Mutation>();
        try (var in = MutationCheckTest.class.getResourceAsStream("/mutations.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split(" \\| ", -1);
                if (f.length != 4) throw new IllegalStateException("bad mutation line: " + line);
                out.add(new Mutation(f[0].trim(), f[1].trim(), f[2].trim(), f[3].trim()));
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyMutantIsCaught() throws IOException {
        return mutations().stream().map(m -> DynamicTest.dynamicTest(m.name(), () -> assertCaught(m)));
    }

    private static void assertCaught(Mutation m) throws Exception {
        Path coreSrc = Path.of("..", "consensus-raft", "src", "main", "java").toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("synod-mutant-" + m.name());
        Path src = work.resolve("src");
        Path classes = work.resolve("classes");
        Files.createDirectories(classes);
        var sources = new ArrayList<String>();
        try (var files = Files.walk(coreSrc)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Path target = src.resolve(coreSrc.relativize(p).toString());
                Files.createDirectories(target.getParent());
                String text = Files.readString(p);
                if (coreSrc.relativize(p).toString().equals(m.file())) {
                    int first = text.indexOf(m.find());
                    assertThat(first).as("mutation %s: '%s' not found in %s", m.name(), m.find(), m.file()).isGreaterThanOrEqualTo(0);
                    assertThat(text.indexOf(m.find(), first + 1)).as("mutation %s: '%s' occurs more than once", m.name(), m.find()).isEqualTo(-1);
                    text = text.replace(m.find(), m.replace());
                }
                Files.writeString(target, text);
                sources.add(target.toString());
            }
        }
        String cp = System.getProperty("java.class.path");
        var compiler = ToolProvider.getSystemJavaCompiler();
        var args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", cp, "--release", "21", "-nowarn", "-Xlint:none"));
        args.addAll(sources);
        int rc = compiler.run(null, null, null, args.toArray(String[]::new));
        assertThat(rc).as("mutant %s must compile", m.name()).isZero();

        // Mutant core first, then everything else from the test class path, in a loader that does not
        // delegate to the application loader (which holds the real core).
        var urls = new ArrayList<URL>();
        urls.add(classes.toUri().toURL());
        for (String e : cp.split(java.io.File.pathSeparator)) urls.add(Path.of(e).toUri().toURL());
        try (var loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
            Class<?> runner = loader.loadClass("io.synod.sim.SimRunner");
            Class<?> options = loader.loadClass("io.synod.sim.SimOptions");
            Object template = options.getMethod("of", long.class).invoke(null, 1L);
            var buf = new ByteArrayOutputStream();
            Object summary = runner.getMethod("run", options, long.class, int.class, boolean.class, int.class, PrintStream.class)
                    .invoke(null, template, 1L, SEED_BUDGET, false, 1, new PrintStream(buf, true, StandardCharsets.UTF_8));
            List<?> failures = (List<?>) summary.getClass().getMethod("failures").invoke(summary);
            String report = buf.toString(StandardCharsets.UTF_8);
            System.out.println("mutant " + m.name() + ": " + report.lines().filter(l -> l.startsWith("VIOLATION") || l.startsWith("seeds=")).toList());
            assertThat(failures).as("mutant %s survived %d seeds:%n%s", m.name(), SEED_BUDGET, report).isNotEmpty();
        }
    }
}
