package io.synod.bench.raft;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Throughput of the Raft core alone: a three-member {@link InMemoryCluster} in one thread, where
 * one operation proposes a batch of {@code batch} 100-byte commands at the leader and drives the
 * group until the leader has committed and applied all of them. With
 * {@link OperationsPerInvocation} scaled to the batch (by the subclasses below, since JMH needs a
 * constant), the score is committed entries per second. Everything replication costs in the core
 * is included (appends, acknowledgements, commit, Ready and advance); no serialization, I/O or
 * threads are, so it is an upper bound for what the core lets a server do.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public abstract class RaftThroughputBench {
    /** Payload bytes of each proposal. */
    public static final int PROPOSAL_BYTES = 100;
    /** Proposals held before every storage is compacted to the applied index. */
    public static final long COMPACT_EVERY = 16_384;

    private InMemoryCluster cluster;
    private int leader;
    private byte[][] payloads;
    private int next;

    /** Proposals per operation. */
    protected abstract int batch();

    @Setup(Level.Trial)
    public void setUp() {
        cluster = new InMemoryCluster(3, 42, COMPACT_EVERY);
        leader = cluster.electLeader(1_000);
        // Distinct payloads (entries never copy them), reused round-robin so the op allocates none itself.
        SplittableRandom rnd = new SplittableRandom(7);
        payloads = new byte[4096][PROPOSAL_BYTES];
        for (byte[] p : payloads) rnd.nextBytes(p);
    }

    /** Proposes a batch at the leader and drives until the leader has applied its last entry; returns that index. */
    protected final long proposeBatchAndCommit() {
        int b = batch();
        long last = 0;
        for (int k = 0; k < b; k++) {
            last = cluster.propose(leader, payloads[next]);
            next = (next + 1) & (payloads.length - 1);
        }
        cluster.driveUntilApplied(leader, last);
        return last;
    }

    /** One proposal per operation: the latency-bound case (one full replication round trip each). */
    public static class Batch1 extends RaftThroughputBench {
        @Override protected int batch() { return 1; }

        @Benchmark
        @OperationsPerInvocation(1)
        public long commit() {
            return proposeBatchAndCommit();
        }
    }

    /** 64 proposals per operation. */
    public static class Batch64 extends RaftThroughputBench {
        @Override protected int batch() { return 64; }

        @Benchmark
        @OperationsPerInvocation(64)
        public long commit() {
            return proposeBatchAndCommit();
        }
    }

    /** 1024 proposals per operation: the throughput-bound case. */
    public static class Batch1024 extends RaftThroughputBench {
        @Override protected int batch() { return 1024; }

        @Benchmark
        @OperationsPerInvocation(1024)
        public long commit() {
            return proposeBatchAndCommit();
        }
    }
}
