package io.synod.consensus;

import io.synod.common.Assert;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link LogStorage} held in memory: the reference implementation used by the simulator
 * (as the "durable" part of a simulated disk), by unit tests and by the in-memory benchmark.
 * Not thread-safe; a driver owns it.
 */
public final class MemoryLogStorage implements LogStorage {
    // Invariant: entries.get(i).index() == snapshot.meta().index() + 1 + i, contiguous.
    private final ArrayList<Entry> entries = new ArrayList<>();
    private Snapshot snapshot = Snapshot.EMPTY;
    private HardState hardState = HardState.EMPTY;
    private ConfState confState;

    public MemoryLogStorage(ConfState initial) {
        this.confState = initial;
    }

    /** A deep-enough copy: entries are immutable, so sharing them is safe. */
    public MemoryLogStorage copy() {
        var c = new MemoryLogStorage(confState);
        c.entries.addAll(entries);
        c.snapshot = snapshot;
        c.hardState = hardState;
        return c;
    }

    @Override public HardState hardState() { return hardState; }
    @Override public ConfState confState() { return confState; }
    @Override public Snapshot snapshot() { return snapshot; }
    @Override public long firstIndex() { return snapshot.meta().index() + 1; }
    @Override public long lastIndex() { return snapshot.meta().index() + entries.size(); }

    @Override
    public long term(long index) {
        long snapIndex = snapshot.meta().index();
        if (index == snapIndex) return snapshot.meta().term();
        if (index < snapIndex) throw new CompactedException(index, firstIndex());
        Assert.that(index <= lastIndex(), "term(%d) beyond last index %d", index, lastIndex());
        return entries.get((int) (index - snapIndex - 1)).term();
    }

    @Override
    public List<Entry> entries(long lo, long hi, long maxBytes) {
        if (lo < firstIndex()) throw new CompactedException(lo, firstIndex());
        Assert.that(hi <= lastIndex() + 1, "entries(%d, %d) beyond last index %d", lo, hi, lastIndex());
        var out = new ArrayList<Entry>((int) Math.min(hi - lo, 64));
        long bytes = 0;
        long offset = snapshot.meta().index() + 1;
        for (long i = lo; i < hi; i++) {
            Entry e = entries.get((int) (i - offset));
            bytes += e.sizeBytes();
            if (!out.isEmpty() && bytes > maxBytes) break;
            out.add(e);
        }
        return out;
    }

    public void setHardState(HardState hs) {
        this.hardState = hs;
    }

    /** Appends entries, overwriting any conflicting suffix (the Raft log overwrite rule). */
    public void append(List<Entry> newEntries) {
        if (newEntries.isEmpty()) return;
        long first = newEntries.get(0).index();
        Assert.that(first >= firstIndex(), "append at %d before first index %d", first, firstIndex());
        Assert.that(first <= lastIndex() + 1, "append at %d leaves a gap after last index %d", first, lastIndex());
        long offset = snapshot.meta().index() + 1;
        int keep = (int) (first - offset);
        while (entries.size() > keep) entries.remove(entries.size() - 1);
        for (Entry e : newEntries) {
            Assert.that(e.index() == offset + entries.size(), "non-contiguous append: %d after %d", e.index(), lastIndex());
            entries.add(e);
        }
    }

    /** Installs a snapshot, discarding the log it covers (or the whole log if it conflicts). */
    public void applySnapshot(Snapshot snap) {
        long idx = snap.meta().index();
        if (idx <= snapshot.meta().index()) return;
        boolean matches = idx <= lastIndex() && term(idx) == snap.meta().term();
        var kept = new ArrayList<Entry>();
        if (matches) {
            for (Entry e : entries) if (e.index() > idx) kept.add(e);
        }
        entries.clear();
        entries.addAll(kept);
        snapshot = snap;
        confState = snap.meta().confState();
    }

    /**
     * Creates a snapshot at {@code index} (which must be applied by the caller) and discards
     * the log up to it.
     */
    public Snapshot createSnapshot(long index, ConfState cs, byte[] data) {
        Assert.that(index > snapshot.meta().index() && index <= lastIndex(), "snapshot at %d outside (%d, %d]", index, snapshot.meta().index(), lastIndex());
        var snap = new Snapshot(new SnapshotMeta(index, term(index), cs), data);
        compact(index);
        snapshot = snap;
        confState = cs;
        return snap;
    }

    private void compact(long index) {
        long offset = snapshot.meta().index() + 1;
        int drop = (int) (index - offset + 1);
        entries.subList(0, Math.min(drop, entries.size())).clear();
    }
}
