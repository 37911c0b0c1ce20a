package io.synod.bench.load;

import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a run counts: outcomes (operations completed, or events delivered) and their latencies,
 * but only those sent inside the measured window and finished before it ends, so neither the
 * warm-up nor the stragglers after the end skew the figures. Thread-safe: completions arrive on
 * gRPC threads.
 */
public final class Tally {
    private final Recorder latencies = new Recorder(3);
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    // Until window() is called nothing counts (from > any time, end < any time).
    private volatile long from = Long.MAX_VALUE;
    private volatile long end = Long.MIN_VALUE;

    /** Opens the measured window [from, end) in System.nanoTime() terms. */
    public void window(long fromNanos, long endNanos) {
        if (endNanos < fromNanos) throw new IllegalArgumentException("window ends before it starts");
        this.end = endNanos;
        this.from = fromNanos;
    }

    /** Whether an operation sent at {@code sentNanos} and finished at {@code doneNanos} counts. */
    public boolean counts(long sentNanos, long doneNanos) {
        return sentNanos >= from && doneNanos < end;
    }

    /** One outcome: a success records its latency (at least 1 ns), a failure counts as an error. */
    public void record(long sentNanos, long doneNanos, boolean success) {
        if (!counts(sentNanos, doneNanos)) return;
        if (success) {
            ok.incrementAndGet();
            latencies.recordValue(Math.max(1, doneNanos - sentNanos));
        } else {
            errors.incrementAndGet();
        }
    }

    /** An operation that could not even be sent at {@code atNanos} (open loop, window of outstanding requests full). */
    public void refused(long atNanos) {
        if (atNanos >= from && atNanos < end) errors.incrementAndGet();
    }

    public long ok() {
        return ok.get();
    }

    public long errors() {
        return errors.get();
    }

    /** The latencies recorded since the last call (call it once, at the end). */
    public Histogram histogram() {
        return latencies.getIntervalHistogram();
    }
}
