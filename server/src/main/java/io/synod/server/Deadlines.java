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
 * daemon thread every {@link #tickNanos()} while it holds any: registering a deadline takes a short lock and an
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
    /**
     * The wheel the request path uses: 20 ms resolution over a 10.24 s turn (longer deadlines go
     * round again). Request deadlines are seconds long; finer ticks only wake the sweeper more often.
     */
    static final Deadlines REQUESTS = new Deadlines(TimeUnit.MILLISECONDS.toNanos(20), 512, "synod-deadlines");

    private final long tickNanos;
    private final int mask;
    private final long origin = System.nanoTime();
    private final String threadName;
    // Guarded by this: bucket i holds the timeouts due in ticks congruent to i; swept is the last tick swept.
    private final List<List<Timeout>> buckets;
    private long swept;
    private long registered; // timeouts in the buckets, done or not
    private boolean sleeping; // the sweeper parks without a timeout: the wheel was empty
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
        boolean wake;
        synchronized (this) {
            if (sweeper == null) start();
            // The sweeper may have slept through ticks while the wheel was empty: catch the cursor up first.
            if (sleeping) swept = Math.max(swept, (System.nanoTime() - origin) / tickNanos);
            if (tick <= swept) tick = swept + 1;
            buckets.get((int) (tick & mask)).add(t);
            registered++;
            wake = sleeping;
            sleeping = false;
        }
        if (wake) LockSupport.unpark(sweeper);
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
        while (true) {
            boolean idle = sweep(System.nanoTime());
            if (idle) {
                LockSupport.park(this); // nothing registered: the next registration wakes this thread
            } else {
                LockSupport.parkNanos(this, tickNanos - (System.nanoTime() - origin) % tickNanos);
            }
        }
    }

    /**
     * Sweeps every bucket whose tick has fully passed by {@code now} and fails what is due; true
     * when the wheel is left empty (the sweeper then sleeps until a registration wakes it).
     * A method of its own, not part of the loop, so that the JIT compiles it.
     */
    private boolean sweep(long now) {
        long tick = (now - origin) / tickNanos;
        boolean empty;
        List<Timeout> due = null;
        synchronized (this) {
            while (swept < tick) {
                swept++;
                List<Timeout> b = buckets.get((int) (swept & mask));
                if (b.isEmpty()) continue;
                // Later turns' timeouts stay; this turn's leave the bucket.
                int kept = 0;
                for (Timeout t : b) {
                    if (t.future == null) continue; // done: forget it
                    if (t.deadline - now <= 0) {
                        if (due == null) due = new ArrayList<>();
                        due.add(t);
                    } else {
                        b.set(kept++, t);
                    }
                }
                registered -= b.size() - kept;
                b.subList(kept, b.size()).clear();
            }
            empty = registered == 0;
            sleeping = empty;
        }
        if (due != null) {
            for (Timeout t : due) {
                CompletableFuture<?> f = t.future;
                if (f != null) f.completeExceptionally(new TimeoutException());
            }
        }
        return empty;
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
        Assert.that(n == registered, "deadline wheel counts %d timeouts but holds %d", registered, n);
        return n;
    }
}
