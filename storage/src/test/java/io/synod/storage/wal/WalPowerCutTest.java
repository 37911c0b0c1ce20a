package io.synod.storage.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shows that {@link PowerCutEmulation} is not a no-op: a real child process ({@link WalPowerCutChild})
 * appends flushed and unflushed records and is killed with SIGKILL. Without emulation every record
 * survives (the page cache outlives the process, which is why a kill alone never tests power loss);
 * with it exactly the flushed ones do; with the deliberately broken {@code ACK_BEFORE_FSYNC} even
 * acknowledged (flushed-batch) records are lost. In-process cases: held records read back, a
 * truncation through held records, and a clean close that keeps them as the page cache would.
 */
class WalPowerCutTest {
    @TempDir Path tmp;

    private List<WalRecord> killedChild(PowerCutEmulation mode) throws Exception {
        Path dir = tmp.resolve(mode.name());
        Files.createDirectories(dir);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path stdout = tmp.resolve(mode + ".out"), stderr = tmp.resolve(mode + ".err");
        Process p = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                WalPowerCutChild.class.getName(), dir.toString(), mode.name())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.readString(stdout).contains("\n") && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(p.isAlive()).as("child died on its own: %s", Files.readString(stderr)).isTrue();
        assertThat(Files.readString(stdout)).startsWith("ready");
        p.destroyForcibly();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("SIGKILL exit code (stderr: %s)", Files.readString(stderr)).isEqualTo(137);
        return WalTestSupport.readAll(dir, WalPowerCutChild.OPTIONS);
    }

    private static void assertPrefix(List<WalRecord> records) {
        for (int i = 0; i < records.size(); i++) {
            assertThat(records.get(i).index()).isEqualTo(i + 1);
            assertThat(records.get(i).payload()).as("payload of record %d", i + 1).isEqualTo(WalPowerCutChild.payload(i + 1));
        }
    }

    @Test
    void withoutEmulationAKillKeepsUnflushedRecords() throws Exception {
        List<WalRecord> records = killedChild(PowerCutEmulation.OFF);
        assertPrefix(records);
        assertThat(records).hasSize(WalPowerCutChild.FLUSHED + WalPowerCutChild.UNFLUSHED);
    }

    @Test
    void withEmulationAKillDropsExactlyTheUnflushedTail() throws Exception {
        List<WalRecord> records = killedChild(PowerCutEmulation.ON);
        assertPrefix(records);
        assertThat(records).as("every flushed record, none of the unflushed ones").hasSize(WalPowerCutChild.FLUSHED);
    }

    @Test
    void ackBeforeFsyncLosesAcknowledgedRecords() throws Exception {
        List<WalRecord> records = killedChild(PowerCutEmulation.ACK_BEFORE_FSYNC);
        assertPrefix(records);
        // Segment rolls flush (structural), so what survives ends at a roll; the batches after it were acknowledged and lost.
        assertThat(records.size()).as("records surviving the broken mode").isLessThan(WalPowerCutChild.FLUSHED);
    }

    @Test
    void heldRecordsReadBackTruncateAndSurviveACleanClose() throws IOException {
        Path dir = tmp.resolve("inproc");
        var opts = WalPowerCutChild.OPTIONS.withPowerCut(PowerCutEmulation.ON);
        try (Wal wal = Wal.open(dir, opts)) {
            wal.appendBatch(List.of(new WalWrite((byte) 1, WalPowerCutChild.payload(1))), true);
            AppendResult r = wal.appendBatch(List.of(new WalWrite((byte) 1, WalPowerCutChild.payload(2)),
                    new WalWrite((byte) 1, WalPowerCutChild.payload(3)), new WalWrite((byte) 1, WalPowerCutChild.payload(4))), false);
            assertThat(wal.read(r.positions().get(1)).payload()).isEqualTo(WalPowerCutChild.payload(3));
            wal.truncateAfter(2);
            assertThat(wal.nextIndex()).isEqualTo(3);
            wal.appendBatch(List.of(new WalWrite((byte) 1, WalPowerCutChild.payload(3))), false);
        }
        List<WalRecord> records = WalTestSupport.readAll(dir, opts);
        assertPrefix(records);
        assertThat(records).as("a clean close writes held records, as the page cache keeps them").hasSize(3);
    }
}
