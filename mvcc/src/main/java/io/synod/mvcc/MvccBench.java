package io.synod.mvcc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * A small single-threaded throughput benchmark of the state machine alone (no consensus, no
 * network): puts, txn-batched puts, point reads, short ranges, revoking a lease with many keys,
 * compaction and reopen on N keys,
 * and the bytes on disk. It is a sanity figure for regressions, not a claim about the server.
 * Usage: {@code MvccBench [keys=100000] [valueBytes=100] [dir]}.
 */
public final class MvccBench {
    private MvccBench() {}

    public static void main(String[] args) throws IOException {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int valueBytes = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        Path dir = args.length > 2 ? Path.of(args[2]) : Files.createTempDirectory("mvcc-bench");
        SplittableRandom rnd = new SplittableRandom(42);
        byte[] value = new byte[valueBytes];
        long index = 0;
        Bytes[] names = new Bytes[keys];
        for (int i = 0; i < keys; i++) names[i] = Bytes.utf8(String.format("key/%08d", i));
        try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
            long t0 = System.nanoTime();
            for (int i = 0; i < keys; i++) {
                rnd.nextBytes(value);
                store.apply(++index, PutRequest.of(names[i], Bytes.copyOf(value)));
            }
            report("put (1 per command, new keys)", keys, t0);

            t0 = System.nanoTime();
            int perTxn = 100;
            for (int i = 0; i < keys; i += perTxn) {
                List<RequestOp> ops = new java.util.ArrayList<>(perTxn);
                for (int j = i; j < Math.min(keys, i + perTxn); j++) {
                    rnd.nextBytes(value);
                    ops.add(PutRequest.of(names[j], Bytes.copyOf(value)));
                }
                store.apply(++index, new TxnRequest(List.of(), ops, List.of()));
            }
            report("put (100 per txn, overwrite)", keys, t0);

            t0 = System.nanoTime();
            for (int i = 0; i < keys; i++) {
                store.range(RangeRequest.single(names[rnd.nextInt(keys)]));
            }
            report("get (single key, current)", keys, t0);

            long mid = store.currentRevision() - keys / perTxn;
            t0 = System.nanoTime();
            for (int i = 0; i < keys; i++) {
                store.range(RangeRequest.single(names[rnd.nextInt(keys)]).atRevision(mid));
            }
            report("get (single key, historical)", keys, t0);

            int ranges = keys / 10;
            t0 = System.nanoTime();
            for (int i = 0; i < ranges; i++) {
                int start = rnd.nextInt(keys - 100);
                store.range(RangeRequest.of(names[start], names[start + 100]));
            }
            report("range [k, k+100)", ranges, t0);

            // etcd's count covers the whole range whatever the limit, so this walks the index to the end.
            int fromKey = keys / 100;
            t0 = System.nanoTime();
            for (int i = 0; i < fromKey; i++) {
                store.range(RangeRequest.fromKey(names[rnd.nextInt(keys)]).withLimit(100));
            }
            report("range from-key, limit 100 (count walks the rest)", fromKey, t0);

            t0 = System.nanoTime();
            long count = store.range(RangeRequest.all().countOnly(true)).count();
            report("count-only over all " + count + " keys", 1, t0);

            // One lease holding a tenth of the keys: its revoke is a single command (one revision), applied in one batch.
            long leaseId = 1;
            store.apply(++index, new LeaseCommand.Grant(leaseId, 3600));
            int attached = keys / 10;
            for (int i = 0; i < attached; i += perTxn) {
                List<RequestOp> ops = new java.util.ArrayList<>(perTxn);
                for (int j = i; j < Math.min(attached, i + perTxn); j++) ops.add(new PutRequest(names[j], Bytes.utf8("leased"), leaseId, false, false, false));
                store.apply(++index, new TxnRequest(List.of(), ops, List.of()));
            }
            // Revoked in bounded commands (MvccOptions.leaseRevokeKeysMax keys each): the longest one is what holds up the apply loop.
            t0 = System.nanoTime();
            long longest = 0;
            int commands = 0;
            boolean complete = false;
            while (!complete) {
                long c0 = System.nanoTime();
                var r = (Result.Applied) store.apply(++index, new LeaseCommand.Revoke(leaseId));
                longest = Math.max(longest, System.nanoTime() - c0);
                complete = ((LeaseResponse) r.response()).complete();
                commands++;
            }
            report("revoke a lease with " + attached + " keys (" + commands + " commands)", 1, t0);
            System.out.printf("%-45s %8.3f s%n", "  longest single revoke command", longest / 1e9);

            store.flush();
            System.out.printf("disk after %d revisions: %.1f MiB%n", store.currentRevision(), mib(dir));
            System.gc();
            Runtime rt = Runtime.getRuntime();
            System.out.printf("java heap in use (key index + bench arrays): %.1f MiB%n",
                    (rt.totalMemory() - rt.freeMemory()) / (1024.0 * 1024.0));

            t0 = System.nanoTime();
            store.apply(++index, new CompactRequest(store.currentRevision()));
            int steps = 0;
            while (store.runCompactionStep()) steps++;
            report("compaction (" + steps + " steps of " + store.options().compactionBatch() + ")", 1, t0);
            store.flush();
            System.out.printf("disk after compaction (before RocksDB reclaims it): %.1f MiB%n", mib(dir));
        }
        long t0 = System.nanoTime();
        try (MvccStore store = MvccStore.open(dir, MvccOptions.defaults())) {
            report("reopen + index rebuild of " + store.indexedKeys() + " keys", 1, t0);
        }
        deleteTree(dir);
    }

    private static void report(String what, long ops, long t0) {
        double secs = (System.nanoTime() - t0) / 1e9;
        if (ops == 1) System.out.printf("%-45s %8.3f s%n", what, secs);
        else System.out.printf("%-45s %10.0f ops/s  (%d in %.2f s)%n", what, ops / secs, ops, secs);
    }

    private static double mib(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum() / (1024.0 * 1024.0);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
