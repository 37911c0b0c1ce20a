package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.mvcc.MvccOptions;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL in the middle of snapshot installs: a child JVM ({@link StoreHolderCrashChild}) installs
 * two alternating states over and over; the test kills it at a random moment, then opens the data
 * directory as a restarting member would and checks it holds one whole state. Replay with
 * {@code -Dsynod.seed=N}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StoreHolderCrashTest {
    static final int ROUNDS = 6;
    @TempDir Path tmp;

    @Test
    void killedDuringInstallsLeavesOneWholeState() throws Exception {
        long seed = Long.getLong("synod.seed", System.nanoTime());
        var random = new SplittableRandom(seed);
        Path data = tmp.resolve("data");
        StoreHolderTest.fill(data.resolve(StoreHolder.LIVE), "a", 100);
        StoreHolderTest.fill(tmp.resolve("a"), "a", 100);
        StoreHolderTest.fill(tmp.resolve("b"), "b", 300);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int round = 0; round < ROUNDS; round++) {
            Process child = new ProcessBuilder(List.of(java, "-Xmx128m", "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), StoreHolderCrashChild.class.getName(), data.toString(), tmp.resolve("a").toString(),
                    tmp.resolve("b").toString())).redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("child.err").toFile())).start();
            try (var out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                int installs = 1 + random.nextInt(4);
                for (int i = 0; i < installs; i++) {
                    String line = out.readLine();
                    assertThat(line).as("seed=%d: child output (see child.err)", seed).startsWith("installed");
                }
                Thread.sleep(random.nextInt(30)); // land somewhere inside the next install
                child.destroyForcibly(); // SIGKILL
                child.waitFor(30, TimeUnit.SECONDS);
            }
            try (StoreHolder h = StoreHolder.open(data, MvccOptions.defaults())) {
                String g = StoreHolderTest.generation(h);
                assertThat(g).as("seed=%d round %d", seed, round).isIn("a", "b");
                assertThat(h.current().appliedIndex()).as("seed=%d", seed).isEqualTo(g.equals("a") ? 100 : 300);
            }
        }
    }
}
