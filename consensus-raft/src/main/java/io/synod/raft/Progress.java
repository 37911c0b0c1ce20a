package io.synod.raft;

import io.synod.common.Assert;

/**
 * The leader's view of one follower's log: how much is known to match, what to send next, and
 * how sending is paced. PROBE sends one append per heartbeat until the match point is found;
 * REPLICATE pipelines appends up to a bounded in-flight window; SNAPSHOT waits while a snapshot
 * is being transferred.
 */
final class Progress {
    enum State { PROBE, REPLICATE, SNAPSHOT }

    // Invariant: match < next.
    long match;
    long next;
    State state = State.PROBE;
    long pendingSnapshot;
    /** In PROBE, an append is outstanding; pause until a response or the next heartbeat. */
    boolean probeSent;
    /** Heard from since the last check-quorum round. */
    boolean recentActive;
    boolean learner;
    /** Highest ReadIndex sequence this follower has echoed in the current term. */
    long readSeqAcked;
    final Inflights inflights;

    Progress(long next, int inflightMax, long inflightBytesMax, boolean learner) {
        this.next = next;
        this.inflights = new Inflights(inflightMax, inflightBytesMax);
        this.learner = learner;
    }

    void becomeProbe() {
        if (state == State.SNAPSHOT) {
            long pending = pendingSnapshot;
            resetState(State.PROBE);
            next = Math.max(match + 1, pending + 1);
        } else {
            resetState(State.PROBE);
            next = match + 1;
        }
    }

    void becomeReplicate() {
        resetState(State.REPLICATE);
        next = match + 1;
    }

    void becomeSnapshot(long snapshotIndex) {
        resetState(State.SNAPSHOT);
        pendingSnapshot = snapshotIndex;
    }

    private void resetState(State s) {
        probeSent = false;
        pendingSnapshot = 0;
        state = s;
        inflights.reset();
    }

    /** Records an acknowledgement up to {@code n}; false if it was stale. */
    boolean maybeUpdate(long n) {
        boolean updated = false;
        if (match < n) {
            match = n;
            updated = true;
            probeSent = false;
        }
        next = Math.max(next, n + 1);
        return updated;
    }

    /**
     * Handles a rejection of the append whose prevLogIndex was {@code rejected}; {@code matchHint}
     * is the highest index that could match. False if the rejection is stale.
     */
    boolean maybeDecrTo(long rejected, long matchHint) {
        if (state == State.REPLICATE) {
            if (rejected <= match) return false;
            next = match + 1;
            return true;
        }
        if (next - 1 != rejected) return false;
        next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
        probeSent = false;
        return true;
    }

    /** Records that entries up to {@code lastIndex} were sent. */
    void sentEntries(long lastIndex, long bytes) {
        switch (state) {
            case REPLICATE -> {
                inflights.add(lastIndex, bytes);
                next = lastIndex + 1;
            }
            case PROBE -> probeSent = true;
            case SNAPSHOT -> throw Assert.unreachable("sending entries while snapshotting");
        }
    }

    boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflights.full();
            case SNAPSHOT -> true;
        };
    }

    @Override
    public String toString() {
        return state + " match=" + match + " next=" + next + (learner ? " learner" : "");
    }

    /** A bounded ring of (last index, bytes) of appends in flight to one follower. */
    static final class Inflights {
        private final long[] lastIndexes;
        private final long[] bytes;
        private final long bytesMax;
        private int start;
        private int count;
        private long bytesInFlight;

        Inflights(int max, long bytesMax) {
            this.lastIndexes = new long[max];
            this.bytes = new long[max];
            this.bytesMax = bytesMax;
        }

        void add(long lastIndex, long size) {
            Assert.that(count < lastIndexes.length, "inflight window overflow (%d)", count);
            int slot = (start + count) % lastIndexes.length;
            lastIndexes[slot] = lastIndex;
            bytes[slot] = size;
            bytesInFlight += size;
            count++;
        }

        /** Frees every append whose last index is <= {@code index}. */
        void freeLE(long index) {
            while (count > 0 && lastIndexes[start] <= index) {
                bytesInFlight -= bytes[start];
                start = (start + 1) % lastIndexes.length;
                count--;
            }
        }

        void freeFirst() {
            if (count > 0) freeLE(lastIndexes[start]);
        }

        boolean full() {
            return count == lastIndexes.length || (bytesMax > 0 && bytesInFlight >= bytesMax);
        }

        int count() {
            return count;
        }

        void reset() {
            start = 0;
            count = 0;
            bytesInFlight = 0;
        }
    }
}
