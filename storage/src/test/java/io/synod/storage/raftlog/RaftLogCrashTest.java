package io.synod.storage.raftlog;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.LogStorage;
import io.synod.consensus.MemoryLogStorage;
import io.synod.storage.wal.SyncMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process driving a {@link DurableRaftLog} ({@link RaftLogCrashChild}) with SIGKILL and
 * checks, on the same directory round after round, that the recovered log is exactly the model
 * after every acknowledged operation plus at most a prefix of the one in flight: the first j
 * entries of an interrupted save (its hard state only with all of them), or an interrupted
 * snapshot either applied or not.
 */
class RaftLogCrashTest {
    @TempDir Path tmp;

    static final int ROUNDS = 14;

    @Test
    void recoveredLogIsTheAcknowledgedPrefix() throws Exception {
        long seed = DurableRaftLogModelTest.seed();
        var rnd = new Random(seed);
        Path dir = tmp.resolve("raftlog");
        String java = ProcessHandle.current().info().command().orElseThrow();
        String cp = System.getProperty("java.class.path");
        var model = new MemoryLogStorage(RaftLogCrashChild.INITIAL);
        long acked = 0;
        int inFlightSeen = 0;
        int torn = 0;
        for (int round = 0; round < ROUNDS; round++) {
            long childSeed = seed * 1000 + round;
            SyncMode mode = round % 2 == 1 ? SyncMode.UNSAFE_NO_SYNC : SyncMode.FDATASYNC;
            Path stderr = tmp.resolve("child-" + round + ".err");
            // A file, not a pipe: the JDK may drop unread pipe bytes when it reaps a killed child.
            Path stdoutFile = tmp.resolve("child-" + round + ".out");
            Process p = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp,
                    RaftLogCrashChild.class.getName(), dir.toString(), Long.toString(childSeed), mode.name())
                    .redirectError(stderr.toFile()).redirectOutput(stdoutFile.toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (Files.size(stdoutFile) == 0 && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(p.isAlive()).as("child died: %s", Files.readString(stderr)).isTrue();
            Thread.sleep(rnd.nextInt(250));
            p.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("child exit (stderr: %s)", Files.readString(stderr)).isEqualTo(137);
            long k = completeLines(Files.readString(stdoutFile));
            acked += k;

            // Regenerate the child's operations against the model.
            var opRnd = new Random(childSeed);
            for (long i = 0; i < k; i++) RaftLogCrashChild.apply(RaftLogCrashChild.next(opRnd, model), model);
            RaftLogCrashChild.Op inFlight = RaftLogCrashChild.next(opRnd, model);
            var candidates = candidates(model, inFlight);
            try (var log = DurableRaftLog.open(dir, RaftLogCrashChild.options(mode), RaftLogCrashChild.INITIAL)) {
                MemoryLogStorage match = null;
                for (int c = 0; c < candidates.size() && match == null; c++) {
                    if (same(candidates.get(c), log)) {
                        match = candidates.get(c);
                        if (c > 0) inFlightSeen++;
                        if (c > 0 && c < candidates.size() - 1) torn++;
                    }
                }
                assertThat(match).as("round %d (seed %d): recovered log [%d, %d] hs %s is not the acknowledged state after %d ops plus a prefix of %s",
                        round, seed, log.firstIndex(), log.lastIndex(), log.hardState(), k, inFlight).isNotNull();
                model = match;
            }
        }
        System.out.printf("RaftLogCrashTest: %d rounds, %d acknowledged operations; the unacknowledged in-flight one was on disk %d times, torn %d times%n",
                ROUNDS, acked, inFlightSeen, torn);
        assertThat(acked).isGreaterThan(ROUNDS);
    }

    /** The states the log may legally be in: in-flight op not applied (first), then each longer prefix of it. */
    private static List<MemoryLogStorage> candidates(MemoryLogStorage model, RaftLogCrashChild.Op op) {
        var out = new ArrayList<MemoryLogStorage>();
        out.add(model.copy());
        if (op instanceof RaftLogCrashChild.Save s) {
            for (int j = 1; j <= s.entries().size(); j++) {
                var m = model.copy();
                m.append(s.entries().subList(0, j));
                out.add(m);
            }
            var all = model.copy();
            RaftLogCrashChild.apply(op, all);
            out.add(all);
        } else {
            var m = model.copy();
            RaftLogCrashChild.apply(op, m);
            out.add(m);
        }
        return out;
    }

    private static boolean same(MemoryLogStorage m, LogStorage d) {
        if (!m.hardState().equals(d.hardState()) || !m.confState().equals(d.confState())) return false;
        if (m.firstIndex() != d.firstIndex() || m.lastIndex() != d.lastIndex()) return false;
        if (!m.snapshot().meta().equals(d.snapshot().meta())) return false;
        return m.entries(m.firstIndex(), m.lastIndex() + 1, Long.MAX_VALUE).equals(d.entries(d.firstIndex(), d.lastIndex() + 1, Long.MAX_VALUE));
    }

    /** Operations acknowledged: complete lines are 0, 1, 2, ... in order. */
    private static long completeLines(String s) {
        long n = 0;
        int from = 0;
        for (int nl; (nl = s.indexOf('\n', from)) >= 0; from = nl + 1) {
            assertThat(Long.parseLong(s.substring(from, nl))).isEqualTo(n);
            n++;
        }
        return n;
    }

}
