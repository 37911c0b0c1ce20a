package io.synod.replica;

import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A sampled record of when log entries passed the points of the write path on this member, so that
 * a write's latency can be taken apart across members and threads. At one client a put costs about
 * 0.8 ms on the test machine, and what separates that from the fsync-plus-loopback floor is a
 * handful of 40-80 us thread hand-offs: an A/B throughput run cannot resolve one of them, a trace can.
 * Timestamps are {@link System#nanoTime()}, which on Linux is the monotonic clock shared by every
 * process on the host, so the files of the members of one cluster on one machine can be joined by
 * index ({@code synod bench trace} does that).
 *
 * <p>Off by default ({@link #OFF}); when on, only entries whose index is a multiple of the sample
 * interval are recorded, into a fixed array that simply stops recording when full, so it costs a
 * modulo per point when on and a field read when off, and its memory is bounded by
 * {@code recordsMax}.
 */
public final class EntryTracer {
    /** The points of the write path, in the order a write at the leader passes them. */
    public enum Point {
        /** The leader's driver was handed the proposal (the time it was queued). */
        PROPOSED,
        /** The leader's core accepted it at this index. */
        APPENDED,
        /** The leader's appends carrying it were handed to the transport, before its own flush. */
        SENT,
        /** A follower's transport handed it the append carrying this entry. */
        RECEIVED,
        /** This member began writing it to its log (what follows, up to PERSISTED, is the write and its flush). */
        WRITING,
        /** This member's log holds it durably. */
        PERSISTED,
        /** A follower handed its acknowledgement of this index to the transport. */
        ACKED,
        /** The leader's transport handed it a follower's acknowledgement of this index. */
        ACK_RECEIVED,
        /** This member learnt it is committed and began applying it. */
        COMMITTED,
        /** This member applied it. */
        APPLIED,
        /** The proposal waiting for it was completed (its caller's answer is on its way). */
        ANSWERED
    }

    /** Records nothing. */
    public static final EntryTracer OFF = new EntryTracer(0, 0);

    /** System property naming the sample interval (0, the default, is off). */
    public static final String SAMPLE_EVERY_PROPERTY = "synod.trace.sampleEvery";
    /** System property naming how many points are kept at most (default {@value #RECORDS_DEFAULT}). */
    public static final String RECORDS_PROPERTY = "synod.trace.records";
    static final int RECORDS_DEFAULT = 200_000;

    private final long sampleEvery;
    private final int recordsMax;
    private final AtomicLongArray slots;
    private final AtomicInteger next = new AtomicInteger();

    /**
     * @param sampleEvery records entries whose index is a multiple of this; 0 records nothing
     * @param recordsMax  how many points are kept at most
     */
    public EntryTracer(long sampleEvery, int recordsMax) {
        if (sampleEvery < 0 || recordsMax < 0) {
            throw new IllegalArgumentException("sampleEvery " + sampleEvery + " and recordsMax " + recordsMax + " must be >= 0");
        }
        this.sampleEvery = sampleEvery;
        this.recordsMax = sampleEvery == 0 ? 0 : recordsMax;
        this.slots = new AtomicLongArray(3 * this.recordsMax);
    }

    /** The tracer the system properties ask for: {@link #OFF} unless {@value #SAMPLE_EVERY_PROPERTY} is set above 0. */
    public static EntryTracer fromSystemProperties() {
        long every = Long.getLong(SAMPLE_EVERY_PROPERTY, 0);
        return every <= 0 ? OFF : new EntryTracer(every, Integer.getInteger(RECORDS_PROPERTY, RECORDS_DEFAULT));
    }

    public boolean enabled() {
        return sampleEvery > 0;
    }

    public boolean sampled(long index) {
        return sampleEvery > 0 && index > 0 && index % sampleEvery == 0;
    }

    /** Records that entry {@code index} passed {@code point} now, if it is sampled. */
    public void mark(long index, Point point) {
        if (sampled(index)) record(index, point, System.nanoTime());
    }

    /** Records that entry {@code index} passed {@code point} at {@code nanos}, if it is sampled. */
    public void mark(long index, Point point, long nanos) {
        if (sampled(index)) record(index, point, nanos);
    }

    private void record(long index, Point point, long nanos) {
        int i = next.getAndIncrement();
        if (i >= recordsMax) {
            next.set(recordsMax); // never wraps, however long the run
            return;
        }
        slots.set(3 * i, index);
        slots.set(3 * i + 1, point.ordinal());
        slots.set(3 * i + 2, nanos);
    }

    /** How many points were recorded (at most {@code recordsMax}). */
    public int size() {
        return Math.min(next.get(), recordsMax);
    }

    /** Writes every recorded point as a line {@code index<TAB>point<TAB>nanos}, in the order they were recorded. */
    public void dump(Writer out) throws IOException {
        int n = size();
        Point[] points = Point.values();
        for (int i = 0; i < n; i++) {
            long index = slots.get(3 * i);
            if (index == 0) continue; // reserved by a thread that had not written it yet
            out.write(index + "\t" + points[(int) slots.get(3 * i + 1)] + "\t" + slots.get(3 * i + 2) + "\n");
        }
        out.flush();
    }
}
