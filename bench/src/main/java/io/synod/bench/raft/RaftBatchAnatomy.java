package io.synod.bench.raft;

import java.io.PrintStream;
import java.util.SplittableRandom;

/**
 * Counts the work behind one committed entry in the setting of {@link RaftThroughputBench}
 * (three members, one thread, batches of 100-byte proposals): driver rounds, Readies, messages,
 * append requests and entries carried, each divided by the entries committed. It explains the
 * JMH figures in terms the core's author can act on (for example, how many append messages a
 * batch costs), and is deterministic, so it is not disturbed by machine load.
 * Usage: {@code RaftBatchAnatomy [batches=2000]}.
 */
public final class RaftBatchAnatomy {
    private RaftBatchAnatomy() {}

    public static void main(String[] args) {
        int batches = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        run(new int[] {1, 64, 1024}, batches, System.out);
    }

    public static void run(int[] batchSizes, int batches, PrintStream out) {
        out.println("batch  rounds/entry  readies/entry  messages/entry  appendReqs/entry  entries/appendReq");
        for (int b : batchSizes) {
            var c = new InMemoryCluster(3, 42, RaftThroughputBench.COMPACT_EVERY);
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
