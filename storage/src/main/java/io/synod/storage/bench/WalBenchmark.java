package io.synod.storage.bench;

import io.synod.storage.wal.SyncMode;
import io.synod.storage.wal.Wal;
import io.synod.storage.wal.WalOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * Measures what the disk under a directory gives the WAL: first the raw flush rate (one small
 * write plus {@code force(false)} per iteration, the ceiling for unbatched durable writes), then
 * {@link Wal} group commit with many concurrent writers for a bounded time. The last line printed
 * is machine-readable: {@code fsyncs_per_second=F durable_records_per_second=R records_per_fsync=B},
 * all three for the group-commit phase. Used by {@code synod bench storage}.
 */
public final class WalBenchmark {
    private WalBenchmark() {}

    /**
     * @param parentDir        a temporary directory is created (and deleted) under it
     * @param rawFsyncNanos    duration of the raw flush phase
     * @param groupCommitNanos duration of the group commit phase
     * @param writers          concurrent appending threads, each with one append in flight
     * @param recordBytes      payload size of each record
     * @param latencySamplesMax per-writer cap on recorded latencies (bounds memory)
     */
    /**
     * @param writerThreads true: each writer is a platform thread blocking on its append; false (default): each
     *                      writer is an asynchronous loop that issues its next append from the completion of the
     *                      previous one, as a server's request handlers would. Both keep {@code writers}
     *                      appends in flight; the thread mode also measures the cost of waking 64 threads on 2 cores.
     */
    public record Options(Path parentDir, long rawFsyncNanos, long groupCommitNanos, int writers, int recordBytes, WalOptions wal, int latencySamplesMax,
            boolean writerThreads) {
        public static Options defaults() {
            return new Options(Path.of(System.getProperty("java.io.tmpdir")), TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(10),
                    64, 256, WalOptions.DEFAULTS, 200_000, false);
        }

        public Options {
            if (writers < 1 || recordBytes < 0 || rawFsyncNanos < 0 || groupCommitNanos <= 0 || latencySamplesMax < 1) {
                throw new IllegalArgumentException("bad benchmark options: " + writers + " writers, " + recordBytes + " bytes");
            }
            if (recordBytes > wal.recordBytesMax()) throw new IllegalArgumentException("recordBytes " + recordBytes + " exceeds recordBytesMax " + wal.recordBytesMax());
        }
    }

    /** The figures of one run; latencies in microseconds. */
    public record Result(double rawFsyncsPerSecond, double rawFsyncP50Micros, double rawFsyncP99Micros,
                         double fsyncsPerSecond, double durableRecordsPerSecond, double recordsPerFsync,
                         double appendP50Micros, double appendP99Micros, double appendMaxMicros) {
        public String summaryLine() {
            return String.format("fsyncs_per_second=%.1f durable_records_per_second=%.1f records_per_fsync=%.2f",
                    fsyncsPerSecond, durableRecordsPerSecond, recordsPerFsync);
        }
    }

    public static Result run(Options o, PrintStream out) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(o.parentDir(), "synod-walbench-");
        try {
            out.printf("WAL benchmark in %s (sync %s, segment %d MiB)%n", dir, o.wal().syncMode(), o.wal().segmentBytes() >> 20);
            double[] raw = rawFsync(dir.resolve("raw"), o);
            out.printf("raw: %.1f fsyncs/s (one %d-byte write + force(false) each), latency p50 %.0f us p99 %.0f us%n", raw[0], o.recordBytes(), raw[1], raw[2]);
            Result r = groupCommit(dir.resolve("wal"), o, raw);
            out.printf("group commit: %d %s writers x %d-byte records for %.1f s: %.1f durable records/s, %.1f fsyncs/s, %.2f records per fsync%n",
                    o.writers(), o.writerThreads() ? "thread" : "async", o.recordBytes(), o.groupCommitNanos() / 1e9, r.durableRecordsPerSecond(), r.fsyncsPerSecond(), r.recordsPerFsync());
            out.printf("append latency (submit to durable): p50 %.0f us p99 %.0f us max %.0f us%n", r.appendP50Micros(), r.appendP99Micros(), r.appendMaxMicros());
            out.printf("raw_fsyncs_per_second=%.1f group_commit_vs_raw=%.1fx%n", r.rawFsyncsPerSecond(), r.durableRecordsPerSecond() / Math.max(1e-9, r.rawFsyncsPerSecond()));
            out.println(r.summaryLine());
            return r;
        } finally {
            deleteTree(dir);
        }
    }

    private static double[] rawFsync(Path file, Options o) throws IOException {
        if (o.rawFsyncNanos() == 0) return new double[] {0, 0, 0};
        final long fileBytes = 16L << 20;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // Preallocate so the flushes measure data, not block allocation (as the WAL does).
            ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
            for (long pos = 0; pos < fileBytes; pos += zeros.capacity()) ch.write(zeros.clear(), pos);
            ch.force(true);
            ByteBuffer rec = ByteBuffer.allocateDirect(Math.max(1, o.recordBytes()));
            long[] lat = new long[o.latencySamplesMax()];
            int n = 0;
            long pos = 0;
            long start = System.nanoTime();
            long end = start + o.rawFsyncNanos();
            long now = start;
            long count = 0;
            while (now < end) {
                long t0 = now;
                rec.clear();
                while (rec.hasRemaining()) ch.write(rec, pos + rec.position());
                ch.force(false);
                pos = (pos + rec.capacity()) % (fileBytes - rec.capacity());
                now = System.nanoTime();
                if (n < lat.length) lat[n++] = now - t0;
                count++;
            }
            Arrays.sort(lat, 0, n);
            return new double[] {count / ((now - start) / 1e9), pct(lat, n, 0.50), pct(lat, n, 0.99)};
        }
    }

    private static Result groupCommit(Path dir, Options o, double[] raw) throws IOException, InterruptedException {
        var wal = Wal.open(dir, o.wal().withPendingRecordsMax(Math.max(o.wal().pendingRecordsMax(), o.writers() * 2)));
        try {
            var done = new LongAdder();
            var latencies = new long[o.writers()][];
            var counts = new int[o.writers()];
            byte[] payload = new byte[o.recordBytes()];
            long syncsBefore = wal.syncCount();
            long start = System.nanoTime();
            long end = start + o.groupCommitNanos();
            var threads = new ArrayList<Thread>();
            var errors = new ArrayList<Throwable>();
            if (!o.writerThreads()) {
                var finished = new java.util.concurrent.CountDownLatch(o.writers());
                for (int t = 0; t < o.writers(); t++) {
                    latencies[t] = new long[o.latencySamplesMax() / o.writers() + 1];
                    asyncWriter(wal, t, payload, end, latencies, counts, done, errors, finished);
                }
                finished.await();
            }
            for (int t = 0; t < o.writers() && o.writerThreads(); t++) {
                int tid = t;
                latencies[t] = new long[o.latencySamplesMax() / o.writers() + 1];
                threads.add(Thread.ofPlatform().name("walbench-" + t).start(() -> {
                    try {
                        long[] lat = latencies[tid];
                        while (true) {
                            long t0 = System.nanoTime();
                            if (t0 >= end) break;
                            CompletableFuture<Long> f = wal.append((byte) 1, payload);
                            f.join();
                            long t1 = System.nanoTime();
                            if (counts[tid] < lat.length) lat[counts[tid]++] = t1 - t0;
                            done.increment();
                        }
                    } catch (Throwable e) {
                        synchronized (errors) {
                            errors.add(e);
                        }
                    }
                }));
            }
            for (Thread t : threads) t.join();
            long elapsed = System.nanoTime() - start;
            if (!errors.isEmpty()) throw new IOException("benchmark writer failed", errors.get(0));
            long syncs = wal.syncCount() - syncsBefore;
            long records = done.sum();
            int total = Arrays.stream(counts).sum();
            long[] all = new long[total];
            int k = 0;
            for (int t = 0; t < o.writers(); t++) {
                System.arraycopy(latencies[t], 0, all, k, counts[t]);
                k += counts[t];
            }
            Arrays.sort(all);
            double secs = elapsed / 1e9;
            return new Result(raw[0], raw[1], raw[2], syncs / secs, records / secs, syncs == 0 ? 0 : (double) records / syncs,
                    pct(all, total, 0.50), pct(all, total, 0.99), total == 0 ? 0 : all[total - 1] / 1e3);
        } finally {
            wal.close();
        }
    }

    /** One asynchronous writer: its next append leaves from the completion of the previous one. */
    private static void asyncWriter(Wal wal, int tid, byte[] payload, long end, long[][] latencies, int[] counts, LongAdder done,
            List<Throwable> errors, java.util.concurrent.CountDownLatch finished) {
        long t0 = System.nanoTime();
        if (t0 >= end) {
            finished.countDown();
            return;
        }
        wal.append((byte) 1, payload).whenComplete((index, err) -> {
            if (err != null) {
                synchronized (errors) {
                    errors.add(err);
                }
                finished.countDown();
                return;
            }
            long t1 = System.nanoTime();
            if (counts[tid] < latencies[tid].length) latencies[tid][counts[tid]++] = t1 - t0;
            done.increment();
            asyncWriter(wal, tid, payload, end, latencies, counts, done, errors, finished);
        });
    }

    private static double pct(long[] sorted, int n, double q) {
        if (n == 0) return 0;
        return sorted[Math.min(n - 1, (int) Math.floor(q * n))] / 1e3;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** {@code WalBenchmark [groupCommitSeconds [writers [recordBytes [FDATASYNC|FSYNC|UNSAFE_NO_SYNC]]]]}. */
    public static void main(String[] args) throws Exception {
        var d = Options.defaults();
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 10;
        int writers = args.length > 1 ? Integer.parseInt(args[1]) : d.writers();
        int bytes = args.length > 2 ? Integer.parseInt(args[2]) : d.recordBytes();
        WalOptions wal = args.length > 3 ? d.wal().withSyncMode(SyncMode.valueOf(args[3])) : d.wal();
        run(new Options(d.parentDir(), d.rawFsyncNanos(), TimeUnit.SECONDS.toNanos(seconds), writers, bytes, wal, d.latencySamplesMax(), false), System.out);
    }
}
