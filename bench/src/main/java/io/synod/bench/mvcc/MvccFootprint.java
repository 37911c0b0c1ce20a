package io.synod.bench.mvcc;

import io.synod.mvcc.Bytes;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.RequestOp;
import io.synod.mvcc.Result;
import io.synod.mvcc.TxnRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A one-off measurement of what N keys cost the MVCC store at rest: it writes N distinct keys
 * ({@code key/%010d}) with random values of the given size (100 puts per transaction), flushes,
 * then reports the bytes of the RocksDB directory and the Java heap in use after a full GC,
 * before and after the load (the difference is the in-memory key index). Keys are generated on
 * the fly and not kept, so the heap figure is the store's own. Usage:
 * {@code MvccFootprint [keys=1000000] [valueBytes=256] [parentDir=java.io.tmpdir]}.
 */
public final class MvccFootprint {
    private MvccFootprint() {}

    public static void main(String[] args) throws IOException {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int valueBytes = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        Path parent = args.length > 2 ? Path.of(args[2]) : Path.of(System.getProperty("java.io.tmpdir"));
        run(keys, valueBytes, parent, System.out);
    }

    public static void run(int keys, int valueBytes, Path parent, PrintStream out) throws IOException {
        Path dir = Files.createTempDirectory(parent, "synod-mvcc-footprint");
        SplittableRandom rnd = new SplittableRandom(42);
        byte[] v = new byte[valueBytes];
        long heapBefore = heapAfterGc();
        long index = 0;
        try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
            long t0 = System.nanoTime();
            for (int i = 0; i < keys; i += 100) {
                List<RequestOp> ops = new ArrayList<>(100);
                for (int j = i; j < Math.min(keys, i + 100); j++) {
                    rnd.nextBytes(v);
                    ops.add(PutRequest.of(Bytes.utf8(String.format("key/%010d", j)), Bytes.copyOf(v)));
                }
                Result r = store.apply(++index, new TxnRequest(List.of(), ops, List.of()));
                if (!(r instanceof Result.Applied)) throw new IllegalStateException("not applied: " + r);
            }
            store.flush();
            double secs = (System.nanoTime() - t0) / 1e9;
            long heapAfter = heapAfterGc();
            long disk = bytesUnder(dir);
            long raw = (long) keys * (14 + valueBytes);
            out.printf("keys=%d value_bytes=%d load_seconds=%.1f (%.0f puts/s, 100 per txn)%n", keys, valueBytes, secs, keys / secs);
            out.printf("indexed_keys=%d revision=%d%n", store.indexedKeys(), store.currentRevision());
            out.printf("disk_bytes=%d (%.1f MiB; raw key+value bytes %.1f MiB, ratio %.2f)%n", disk, disk / 1048576.0, raw / 1048576.0, (double) disk / raw);
            out.printf("heap_after_gc_bytes=%d before_load=%d delta=%d (%.1f MiB, %.0f bytes/key)%n",
                    heapAfter, heapBefore, heapAfter - heapBefore, (heapAfter - heapBefore) / 1048576.0, (heapAfter - heapBefore) / (double) keys);
        }
        try {
            // A restarted member opens its store first: RocksDB open plus the rebuild of the in-heap key index.
            for (int round = 1; round <= 3; round++) {
                long t0 = System.nanoTime();
                try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
                    out.printf("reopen %d: %.2f s for %d keys%n", round, (System.nanoTime() - t0) / 1e9, store.indexedKeys());
                }
            }
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long bytesUnder(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
