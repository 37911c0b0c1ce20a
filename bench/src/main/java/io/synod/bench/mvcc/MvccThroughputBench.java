package io.synod.bench.mvcc;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.CompactRequest;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.RangeResponse;
import io.synod.mvcc.RequestOp;
import io.synod.mvcc.Result;
import io.synod.mvcc.TxnRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * Throughput of the MVCC state machine alone ({@link MvccStore} on RocksDB in a temporary
 * directory, one thread, no consensus): puts of {@code valueBytes}-byte values over a fixed key
 * space (one per applied command, and 100 per transaction), single-key reads and 100-key ranges
 * over a preloaded store. History is compacted every {@link #COMPACT_EVERY} put commands (its cost
 * is part of the put figures) so the store does not grow without bound during long runs. The
 * store is closed and its directory deleted at the end of each trial.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MvccThroughputBench {
    /** Commands applied between two compactions in the put benchmarks. */
    public static final int COMPACT_EVERY = 100_000;
    static final int TXN_OPS = 100;

    @Param("100000")
    public int keys;

    @Param("256")
    public int valueBytes;

    private Path dir;
    private MvccStore store;
    private Bytes[] names;
    private Bytes[] values;
    private SplittableRandom rnd;
    private long index;
    private int commandsSinceCompaction;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("synod-mvcc-bench");
        store = MvccStore.open(dir, MvccOptions.defaults());
        rnd = new SplittableRandom(42);
        names = new Bytes[keys];
        for (int i = 0; i < keys; i++) names[i] = Bytes.utf8(String.format("key/%08d", i));
        values = new Bytes[1024];
        byte[] v = new byte[valueBytes];
        for (int i = 0; i < values.length; i++) {
            rnd.nextBytes(v);
            values[i] = Bytes.copyOf(v);
        }
        // Preload every key once so reads hit and puts overwrite.
        for (int i = 0; i < keys; i += TXN_OPS) {
            List<RequestOp> ops = new ArrayList<>(TXN_OPS);
            for (int j = i; j < Math.min(keys, i + TXN_OPS); j++) ops.add(PutRequest.of(names[j], values[j & 1023]));
            check(store.apply(++index, new TxnRequest(List.of(), ops, List.of())));
        }
        store.flush();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        store.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static void check(Result r) {
        if (!(r instanceof Result.Applied)) throw new IllegalStateException("not applied: " + r);
    }

    private void maybeCompact() {
        if (++commandsSinceCompaction < COMPACT_EVERY) return;
        commandsSinceCompaction = 0;
        check(store.apply(++index, new CompactRequest(store.currentRevision())));
        while (store.runCompactionStep()) { }
    }

    /** One put of a random existing key per applied command. */
    @Benchmark
    public Result put() {
        Result r = store.apply(++index, PutRequest.of(names[rnd.nextInt(keys)], values[rnd.nextInt(1024)]));
        maybeCompact();
        return r;
    }

    /** 100 puts of random existing keys in one transaction (one command, one RocksDB write batch); score is puts/s. */
    @Benchmark
    @OperationsPerInvocation(TXN_OPS)
    public Result putTxn100() {
        List<RequestOp> ops = new ArrayList<>(TXN_OPS);
        for (int j = 0; j < TXN_OPS; j++) ops.add(PutRequest.of(names[rnd.nextInt(keys)], values[rnd.nextInt(1024)]));
        Result r = store.apply(++index, new TxnRequest(List.of(), ops, List.of()));
        maybeCompact();
        return r;
    }

    /** A single-key read at the current revision. */
    @Benchmark
    public RangeResponse get() {
        return store.range(RangeRequest.single(names[rnd.nextInt(keys)]));
    }

    /** A range read of 100 consecutive keys at the current revision; score is ranges/s (each returns 100 keys). */
    @Benchmark
    public RangeResponse range100() {
        int start = rnd.nextInt(keys - 100);
        return store.range(RangeRequest.of(names[start], names[start + 100]));
    }
}
