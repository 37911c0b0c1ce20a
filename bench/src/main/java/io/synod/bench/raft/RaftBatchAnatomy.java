package io.synod.bench.raft;

import io.synod.raft.RaftConfig;
import java.io.PrintStream;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * Counts the work behind one committed entry in the setting of {@link RaftThroughputBench}
 * (three members, one thread, batches of 100-byte proposals): driver rounds, Readies, messages,
 * append requests and entries carried, each divided by the entries committed. It explains the
 * JMH figures in terms the core's author can act on (for example, how many append messages a
 * batch costs); the counts are deterministic, so machine load does not disturb them. It also
 * times a few seconds of batches by the benchmark thread's CPU time as well as by the wall clock:
 * on a shared machine the CPU-time rate is the steadier estimate of what the code costs (it leaves
 * out the garbage collector's threads), and the thread's allocated bytes cross-check JMH's
 * {@code gc.alloc.rate.norm}. A third argument, the in-flight append window, runs a what-if with
 * {@code inflightAppendsMax} set to it (smaller windows make the leader batch entries into fewer
 * appends). Usage: {@code RaftBatchAnatomy [batches=2000] [seconds=5] [inflightAppendsMax]}.
 */
public final class RaftBatchAnatomy {
    private RaftBatchAnatomy() {}

    public static void main(String[] args) {
        int batches = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 5;
        int window = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        UnaryOperator<RaftConfig.Builder> tune = window > 0 ? b -> b.inflightAppendsMax(window) : b -> b;
        if (window > 0) System.out.println("what-if: inflightAppendsMax=" + window);
        run(new int[] {1, 64, 1024}, batches, tune, System.out);
        timed(new int[] {1, 64, 1024}, seconds, tune, System.out);
    }

    /** Runs batches for {@code seconds} after as long a warmup, and reports entries per wall second and per CPU second. */
    public static void timed(int[] batchSizes, double seconds, UnaryOperator<RaftConfig.Builder> tune, PrintStream out) {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        out.println("batch  entries/s(wall)  entries/s(thread cpu)  cpu/wall  alloc_bytes/entry");
        for (int b : batchSizes) {
            var c = new InMemoryCluster(3, 42, RaftThroughputBench.COMPACT_EVERY, tune);
            int leader = c.electLeader(1_000);
            byte[] payload = new byte[RaftThroughputBench.PROPOSAL_BYTES];
            new SplittableRandom(7).nextBytes(payload);
            long span = (long) (seconds * 1e9);
            long end = System.nanoTime() + span;
            while (System.nanoTime() < end) batch(c, leader, b, payload);
            long entries = 0;
            long wall0 = System.nanoTime(), cpu0 = mx.getCurrentThreadCpuTime(), alloc0 = mx.getThreadAllocatedBytes(tid);
            end = wall0 + span;
            while (System.nanoTime() < end) {
                batch(c, leader, b, payload);
                entries += b;
            }
            long wall = System.nanoTime() - wall0, cpu = mx.getCurrentThreadCpuTime() - cpu0, alloc = mx.getThreadAllocatedBytes(tid) - alloc0;
            out.printf("%5d  %15.0f  %21.0f  %8.2f  %17.1f%n", b, entries / (wall / 1e9), entries / (cpu / 1e9), (double) cpu / wall,
                    (double) alloc / entries);
        }
    }

    public static void run(int[] batchSizes, int batches, UnaryOperator<RaftConfig.Builder> tune, PrintStream out) {
        out.println("batch  rounds/entry  readies/entry  messages/entry  appendReqs/entry  entries/appendReq");
        for (int b : batchSizes) {
            var c = new InMemoryCluster(3, 42, RaftThroughputBench.COMPACT_EVERY, tune);
            int leader = c.electLeader(1_000);
            byte[] payload = new byte[RaftThroughputBench.PROPOSAL_BYTES];
            new SplittableRandom(7).nextBytes(payload);
            // Warm the pipeline to a steady state, then measure.
            for (int k = 0; k < 10; k++) batch(c, leader, b, payload);
            long[] before = c.counters();
            for (int k = 0; k < batches; k++) batch(c, leader, b, payload);
            long[] after = c.counters();
            double entries = (double) b * batches;
            out.printf("%5d  %12.3f  %13.3f  %14.3f  %16.3f  %17.1f%n", b,
                    (after[0] - before[0]) / entries, (after[1] - before[1]) / entries, (after[2] - before[2]) / entries,
                    (after[3] - before[3]) / entries, (double) (after[4] - before[4]) / Math.max(1, after[3] - before[3]));
        }
    }

    private static void batch(InMemoryCluster c, int leader, int b, byte[] payload) {
        long last = 0;
        for (int k = 0; k < b; k++) last = c.propose(leader, payload);
        c.driveUntilApplied(leader, last);
    }
}
