package io.synod.storage.wal;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * The process {@link WalCrashTest} kills: appends through the WAL from several threads (group
 * commit) and one {@code appendSync} thread, and prints {@code index round thread seq length}
 * for each record only after it is durable. Exits by itself after a safety timeout. Without
 * flushes (UNSAFE_NO_SYNC, still durable against a process kill since the page cache survives)
 * the process spends its time in write calls, which is where a kill tears a record.
 */
public final class WalCrashChild {
    /** Writes are cut into 64-byte calls so that a kill can land inside a record. */
    static final WalOptions OPTIONS = new WalOptions(64 * 1024, 4096, 256, 32 * 1024, 10_000, SyncMode.FDATASYNC, 64);
    static final int ASYNC_THREADS = 6;
    static final int SYNC_THREAD = ASYNC_THREADS;

    static byte[] payload(int round, int thread, long seq, int len) {
        return WalTestSupport.payload(round * 1_000_000_000L + thread * 10_000_000L + seq, len);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int round = Integer.parseInt(args[1]);
        SyncMode mode = SyncMode.valueOf(args[2]);
        var out = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
        Wal wal = Wal.open(dir, OPTIONS.withSyncMode(mode));
        var threads = new ArrayList<Thread>();
        for (int t = 0; t < ASYNC_THREADS; t++) {
            int tid = t;
            threads.add(Thread.ofPlatform().daemon().start(() -> {
                var rnd = new Random(round * 31L + tid);
                for (long seq = 0; ; seq++) {
                    int len = rnd.nextInt(10) == 0 ? rnd.nextInt(4097) : rnd.nextInt(300);
                    CompletableFuture<Long> f = wal.append((byte) (1 + tid), payload(round, tid, seq, len));
                    long idx = f.join();
                    synchronized (out) {
                        out.println(idx + " " + round + " " + tid + " " + seq + " " + len);
                    }
                }
            }));
        }
        threads.add(Thread.ofPlatform().daemon().start(() -> {
            var rnd = new Random(round * 31L + SYNC_THREAD);
            long seq = 0;
            try {
                while (true) {
                    int n = 1 + rnd.nextInt(5);
                    var writes = new ArrayList<WalWrite>();
                    var lens = new ArrayList<Integer>();
                    for (int i = 0; i < n; i++) {
                        int len = rnd.nextInt(2000);
                        lens.add(len);
                        writes.add(new WalWrite((byte) 100, payload(round, SYNC_THREAD, seq + i, len)));
                    }
                    AppendResult r = wal.appendSync(writes);
                    synchronized (out) {
                        for (int i = 0; i < n; i++) out.println((r.firstIndex() + i) + " " + round + " " + SYNC_THREAD + " " + (seq + i) + " " + lens.get(i));
                    }
                    seq += n;
                }
            } catch (Exception e) {
                e.printStackTrace();
                System.exit(3);
            }
        }));
        Thread.sleep(30_000);
        System.err.println("child was not killed within 30 s");
        System.exit(2);
    }

    /** Lets the parent verify a reported record without sharing state with the child. */
    record Reported(long index, int round, int thread, long seq, int len) {
        static Reported parse(String line) {
            String[] f = line.trim().split(" ");
            return new Reported(Long.parseLong(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]), Long.parseLong(f[3]), Integer.parseInt(f[4]));
        }

        byte[] payload() {
            return WalCrashChild.payload(round, thread, seq, len);
        }

        byte type() {
            return (byte) (thread == SYNC_THREAD ? 100 : 1 + thread);
        }
    }

}
