package io.synod.server;

import io.synod.common.Assert;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * Fails request futures that are not done by their deadline, for the request path's many short
 * deadlines (every write and every linearizable read has one). It is a timing wheel swept by one
 * daemon thread every {@link #tickNanos()}: registering a deadline takes a short lock and an
 * append, and completing a request removes nothing, so a request costs no thread wake-up at all.
 *
 * <p>Why not {@link CompletableFuture#orTimeout}: each call queues a task for the JDK's delay
 * scheduler, which wakes its thread for every new task and again for every cancellation when the
 * future completes first. A CPU profile of a member serving lease keep-alives (docs/benchmarks.md)
 * had 8% of its non-compiler CPU in that thread's parks and wake-ups.
 *
 * <p>A deadline fires at most one tick late (plus the sweeper's scheduling delay), never early. A
 * timed-out future completes exceptionally with a {@link TimeoutException}, as {@code orTimeout}
 * did, so callers map it to etcd's "request timed out" as before.
 */
public final class Deadlines {
    /** The wheel the request path uses: 10 ms resolution over a 10.24 s turn (longer deadlines go round again). */
    static final Deadlines REQUESTS = new Deadlines(TimeUnit.MILLISECONDS.toNanos(10), 1024, "synod-deadlines");

    private final long tickNanos;
    private final int mask;
    private final long origin = System.nanoTime();
    private final String threadName;
    // Guarded by this: bucket i holds the timeouts due in ticks congruent to i; swept is the last tick swept.
    private final List<List<Timeout>> buckets;
    private long swept;
    private Thread sweeper;

    /**
     * @param tickNanos resolution: how late a deadline may fire, and how often the sweeper wakes
     * @param buckets   ticks per turn of the wheel (a power of two); a deadline further out waits a turn in its bucket
     */
    Deadlines(long tickNanos, int buckets, String threadName) {
        Assert.that(tickNanos > 0, "deadline tick must be positive: %d ns", tickNanos);
        Assert.that(buckets > 0 && Integer.bitCount(buckets) == 1, "deadline wheel buckets must be a power of two: %d", buckets);
        this.tickNanos = tickNanos;
        this.mask = buckets - 1;
        this.threadName = threadName;
        this.buckets = new ArrayList<>(buckets);
        for (int i = 0; i < buckets; i++) this.buckets.add(new ArrayList<>());
    }

    long tickNanos() {
        return tickNanos;
    }

    /**
     * {@code f} itself, which this wheel fails with a {@link TimeoutException} unless it is done by
     * {@code deadlineNanos} ({@link System#nanoTime()} scale). A deadline already past fails it at once.
     */
    <T> CompletableFuture<T> within(CompletableFuture<T> f, long deadlineNanos) {
        if (f.isDone()) return f;
        long due = deadlineNanos - origin;
        if (due <= 0 || deadlineNanos - System.nanoTime() <= 0) {
            f.completeExceptionally(new TimeoutException());
            return f;
        }
        var t = new Timeout(f, deadlineNanos);
        // Round up: the bucket is swept once its whole tick has passed, so the deadline is never early.
        long tick = (due + tickNanos - 1) / tickNanos;
        synchronized (this) {
            if (sweeper == null) start();
            if (tick <= swept) tick = swept + 1;
            buckets.get((int) (tick & mask)).add(t);
        }
        // Forget the future once it is done, so a completed request's result is not kept until its bucket is swept.
        f.whenComplete(t);
        return f;
    }

    private void start() {
        swept = (System.nanoTime() - origin) / tickNanos;
        sweeper = new Thread(this::sweepLoop, threadName);
        sweeper.setDaemon(true);
        sweeper.start();
    }

    private void sweepLoop() {
        List<Timeout> due = new ArrayList<>();
        while (true) {
            long now = System.nanoTime();
            long tick = (now - origin) / tickNanos; // every tick up to here has fully passed
            synchronized (this) {
                while (swept < tick) {
                    swept++;
                    List<Timeout> b = buckets.get((int) (swept & mask));
                    if (b.isEmpty()) continue;
                    // Later turns' timeouts stay; this turn's leave the bucket.
                    int kept = 0;
                    for (Timeout t : b) {
                        if (t.future == null) continue; // done: forget it
                        if (t.deadline - now <= 0) due.add(t);
                        else b.set(kept++, t);
                    }
                    b.subList(kept, b.size()).clear();
                }
            }
            for (Timeout t : due) {
                CompletableFuture<?> f = t.future;
                if (f != null) f.completeExceptionally(new TimeoutException());
            }
            due.clear();
            LockSupport.parkNanos(tickNanos - (System.nanoTime() - origin) % tickNanos);
        }
    }

    /** One registered deadline; it drops its future when the future completes, however it completes. */
    private static final class Timeout implements BiConsumer<Object, Throwable> {
        volatile CompletableFuture<?> future;
        final long deadline;

        Timeout(CompletableFuture<?> future, long deadline) {
            this.future = future;
            this.deadline = deadline;
        }

        @Override
        public void accept(Object result, Throwable failure) {
            future = null;
        }
    }

    /** Registered deadlines not yet swept (completed ones included until their bucket's turn); for tests. */
    synchronized int pending() {
        int n = 0;
        for (List<Timeout> b : buckets) n += b.size();
        return n;
    }
}
