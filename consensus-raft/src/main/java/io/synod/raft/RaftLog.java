package io.synod.raft;

import io.synod.common.Assert;
import io.synod.consensus.Entry;
import io.synod.consensus.LogStorage;
import io.synod.consensus.Snapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * The log as one member sees it: the durable part in {@link LogStorage} followed by an unstable
 * tail (entries and possibly a snapshot) that the driver has been handed but not yet confirmed
 * durable. Tracks the commit index and the applied index.
 */
final class RaftLog {
    private final LogStorage storage;

    // The unstable tail. Invariant: unstableSnapshot non-empty => unstableOffset == its index + 1.
    // Invariant: unstableEntries.get(i).index() == unstableOffset + i.
    private Snapshot unstableSnapshot = Snapshot.EMPTY;
    private final ArrayList<Entry> unstableEntries = new ArrayList<>();
    private long unstableOffset;

    // Invariant: applied <= committed <= lastIndex(). committed never decreases within a run.
    long committed;
    long applied;

    RaftLog(LogStorage storage) {
        this.storage = storage;
        this.unstableOffset = storage.lastIndex() + 1;
        this.committed = storage.firstIndex() - 1;
        this.applied = storage.firstIndex() - 1;
    }

    long firstIndex() {
        return unstableSnapshot.isEmpty() ? storage.firstIndex() : unstableSnapshot.meta().index() + 1;
    }

    long lastIndex() {
        if (!unstableEntries.isEmpty()) return unstableOffset + unstableEntries.size() - 1;
        if (!unstableSnapshot.isEmpty()) return unstableSnapshot.meta().index();
        return storage.lastIndex();
    }

    /** Last index known durable (what a leader may count itself as having). */
    long stableLastIndex() {
        return unstableOffset - 1;
    }

    long lastTerm() {
        return term(lastIndex());
    }

    /** Term at {@code index}, or 0 when the index is beyond the log or compacted away. */
    long term(long index) {
        long dummy = firstIndex() - 1;
        if (index < dummy || index > lastIndex()) return 0;
        if (!unstableSnapshot.isEmpty() && index == unstableSnapshot.meta().index()) return unstableSnapshot.meta().term();
        if (index >= unstableOffset) return unstableEntries.get((int) (index - unstableOffset)).term();
        try {
            return storage.term(index);
        } catch (LogStorage.CompactedException e) {
            return 0;
        }
    }

    boolean matchTerm(long index, long term) {
        long t = term(index);
        return index == 0 ? term == 0 : t != 0 && t == term;
    }

    boolean isUpToDate(long lastIndex, long lastTerm) {
        long myTerm = lastTerm();
        return lastTerm > myTerm || (lastTerm == myTerm && lastIndex >= lastIndex());
    }

    /**
     * The largest index <= {@code index} whose term is <= {@code term}; the leader uses a
     * follower's (hintIndex, hintTerm) with it to skip past a whole conflicting term at once.
     */
    long findConflictByTerm(long index, long term) {
        long first = firstIndex() - 1;
        for (long i = Math.min(index, lastIndex()); i > first; i--) {
            if (term(i) <= term) return i;
        }
        return first;
    }

    /**
     * Appends a leader's entries that follow (prevIndex, prevTerm), truncating a conflicting
     * uncommitted suffix. Returns the last index of the new entries.
     */
    long appendFromLeader(List<Entry> entries, long prevIndex) {
        long lastNew = prevIndex + entries.size();
        int start = 0;
        // Find the first entry we do not already have (same index and term); entries we have are kept,
        // so a delayed, shorter append never truncates entries a newer append already added.
        while (start < entries.size()) {
            Entry e = entries.get(start);
            if (e.index() > lastIndex() || term(e.index()) != e.term()) break;
            start++;
        }
        if (start < entries.size()) {
            long conflictIndex = entries.get(start).index();
            Assert.that(conflictIndex > committed, "append would overwrite committed entry %d (committed %d)", conflictIndex, committed);
            appendUnstable(entries.subList(start, entries.size()));
        }
        return lastNew;
    }

    /** Leader-side append of its own new entries. */
    void appendLocal(Entry e) {
        Assert.that(e.index() == lastIndex() + 1, "local append at %d, expected %d", e.index(), lastIndex() + 1);
        appendUnstable(List.of(e));
    }

    private void appendUnstable(List<Entry> entries) {
        long after = entries.get(0).index();
        Assert.that(after > committed, "truncating at %d would lose committed index %d", after, committed);
        long unstableEnd = unstableOffset + unstableEntries.size();
        if (after == unstableEnd) {
            unstableEntries.addAll(entries);
        } else if (after <= unstableOffset) {
            // Replace the unstable tail entirely; storage's conflicting suffix gets overwritten when these persist.
            unstableOffset = after;
            unstableEntries.clear();
            unstableEntries.addAll(entries);
        } else {
            int keep = (int) (after - unstableOffset);
            unstableEntries.subList(keep, unstableEntries.size()).clear();
            unstableEntries.addAll(entries);
        }
    }

    /** Entries in [lo, hi) bounded by bytes (at least one). Throws CompactedException below firstIndex. */
    List<Entry> slice(long lo, long hi, long maxBytes, int maxCount) {
        if (lo >= hi) return List.of();
        if (lo < firstIndex()) throw new LogStorage.CompactedException(lo, firstIndex());
        Assert.that(hi <= lastIndex() + 1, "slice [%d, %d) beyond last index %d", lo, hi, lastIndex());
        hi = Math.min(hi, lo + maxCount);
        var out = new ArrayList<Entry>((int) Math.min(hi - lo, 256));
        if (lo < unstableOffset) {
            out.addAll(storage.entries(lo, Math.min(hi, unstableOffset), maxBytes));
            if (out.size() < Math.min(hi, unstableOffset) - lo) return out; // storage stopped at the byte limit
        }
        long bytes = 0;
        for (Entry e : out) bytes += e.sizeBytes();
        for (long i = Math.max(lo, unstableOffset); i < hi; i++) {
            Entry e = unstableEntries.get((int) (i - unstableOffset));
            bytes += e.sizeBytes();
            if (!out.isEmpty() && bytes > maxBytes) break;
            out.add(e);
        }
        return out;
    }

    void commitTo(long index) {
        if (index <= committed) return;
        Assert.that(index <= lastIndex(), "commit to %d beyond last index %d", index, lastIndex());
        committed = index;
    }

    // --- Ready plumbing -----------------------------------------------------------------------

    List<Entry> unstableEntries() {
        return List.copyOf(unstableEntries);
    }

    boolean hasUnstable() {
        return !unstableEntries.isEmpty();
    }

    Snapshot unstableSnapshot() {
        return unstableSnapshot;
    }

    /** Committed entries not yet handed out for applying, starting after {@code from}. */
    List<Entry> committedAfter(long from, long maxBytes) {
        long lo = Math.max(from + 1, firstIndex());
        if (lo > committed) return List.of();
        return slice(lo, committed + 1, maxBytes, Integer.MAX_VALUE);
    }

    boolean hasCommittedAfter(long from) {
        return committed > Math.max(from, firstIndex() - 1);
    }

    /** The driver persisted entries up to (index, term); drop them from the unstable tail if still the same. */
    void stableTo(long index, long term) {
        if (index < unstableOffset || index >= unstableOffset + unstableEntries.size()) return;
        if (unstableEntries.get((int) (index - unstableOffset)).term() != term) return;
        int n = (int) (index - unstableOffset + 1);
        unstableEntries.subList(0, n).clear();
        unstableOffset = index + 1;
    }

    void stableSnapshotTo(long index) {
        if (!unstableSnapshot.isEmpty() && unstableSnapshot.meta().index() == index) unstableSnapshot = Snapshot.EMPTY;
    }

    void appliedTo(long index) {
        Assert.that(index <= committed, "applied %d beyond committed %d", index, committed);
        if (index > applied) applied = index;
    }

    /** Replaces the whole log with a snapshot from the leader. */
    void restore(Snapshot snap) {
        long idx = snap.meta().index();
        Assert.that(idx > committed, "restoring snapshot %d at or below committed %d", idx, committed);
        unstableSnapshot = snap;
        unstableEntries.clear();
        unstableOffset = idx + 1;
        committed = idx;
    }

    Snapshot snapshotForFollower() {
        return unstableSnapshot.isEmpty() ? storage.snapshot() : unstableSnapshot;
    }

    /** True if any entry in (lo, hi] is a membership change (a member must apply them before campaigning). */
    boolean hasConfChangeIn(long lo, long hi) {
        long from = Math.max(lo + 1, firstIndex());
        for (long i = from; i <= hi; ) {
            List<Entry> batch = slice(i, hi + 1, Long.MAX_VALUE, 1024);
            for (Entry e : batch) if (e.type() == io.synod.consensus.EntryType.CONF_CHANGE) return true;
            i += batch.size();
        }
        return false;
    }
}
