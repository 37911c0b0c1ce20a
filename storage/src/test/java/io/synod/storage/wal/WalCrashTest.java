package io.synod.storage.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real writer process ({@link WalCrashChild}) with SIGKILL at random moments, over and
 * over on the same directory, and checks after each kill that every record the child reported
 * durable is present with its exact type and payload. SIGKILL keeps the page cache, so this
 * exercises interrupted writes, recovery and continued appending after recovery, not power loss.
 */
class WalCrashTest {
    @TempDir Path tmp;

    static final int ROUNDS = 24;
    static final long TIME_BUDGET_NANOS = TimeUnit.SECONDS.toNanos(60);

    @Test
    void acknowledgedRecordsSurviveSigkill() throws Exception {
        long seed = WalTestSupport.seed("WalCrashTest");
        var rnd = new Random(seed);
        Path dir = tmp.resolve("wal");
        Files.createDirectories(dir);
        String java = ProcessHandle.current().info().command().orElseThrow();
        String cp = System.getProperty("java.class.path");
        var durable = new HashMap<Long, WalCrashChild.Reported>();
        long start = System.nanoTime();
        int rounds = 0;
        int tornTails = 0;
        long totalReported = 0;
        for (int round = 0; round < ROUNDS && System.nanoTime() - start < TIME_BUDGET_NANOS; round++) {
            Path stderr = tmp.resolve("child-" + round + ".err");
            // A file, not a pipe: the JDK may drop unread pipe bytes when it reaps a killed child.
            Path stdoutFile = tmp.resolve("child-" + round + ".out");
            SyncMode mode = round % 2 == 1 ? SyncMode.UNSAFE_NO_SYNC : SyncMode.FDATASYNC;
            Process p = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp,
                    WalCrashChild.class.getName(), dir.toString(), Integer.toString(round), mode.name())
                    .redirectError(stderr.toFile())
                    .redirectOutput(stdoutFile.toFile())
                    .start();
            // Wait for the first acknowledged record, then kill at a random moment after it.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (Files.size(stdoutFile) == 0 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(p.isAlive()).as("child died on its own: %s", readQuietly(stderr)).isTrue();
            Thread.sleep(rnd.nextInt(300));
            p.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("child exit (stderr: %s)", readQuietly(stderr)).isEqualTo(137);

            List<WalCrashChild.Reported> reported = completeLines(Files.readString(stdoutFile));
            totalReported += reported.size();
            for (var r : reported) {
                var previous = durable.put(r.index(), r);
                assertThat(previous).as("index %d reported twice (seed %d)", r.index(), seed).isNull();
            }
            Map<Long, WalRecord> found = new HashMap<>();
            try (Wal wal = Wal.open(dir, WalCrashChild.OPTIONS, rec -> found.put(rec.index(), rec))) {
                if (wal.recoveryReport().truncatedTornTail()) tornTails++;
            }
            for (var r : durable.values()) {
                WalRecord rec = found.get(r.index());
                assertThat(rec).as("acknowledged record %s missing after round %d (seed %d)", r, round, seed).isNotNull();
                assertThat(rec.type()).as("type of %s", r).isEqualTo(r.type());
                assertThat(rec.payload()).as("payload of %s (seed %d)", r, seed).isEqualTo(r.payload());
            }
            rounds++;
        }
        System.out.printf("WalCrashTest: %d rounds, %d acknowledged records checked, %d torn tails truncated%n", rounds, totalReported, tornTails);
        assertThat(rounds).isGreaterThanOrEqualTo(10);
        assertThat(totalReported).isGreaterThan(rounds);
    }

    /** Only lines ending in a newline: a line cut off by the kill was never fully reported. */
    private static List<WalCrashChild.Reported> completeLines(String s) {
        var lines = new ArrayList<WalCrashChild.Reported>();
        int from = 0;
        for (int nl; (nl = s.indexOf('\n', from)) >= 0; from = nl + 1) lines.add(WalCrashChild.Reported.parse(s.substring(from, nl)));
        return lines;
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }
}
