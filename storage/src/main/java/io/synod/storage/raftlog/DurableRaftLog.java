package io.synod.storage.raftlog;

import io.synod.common.Assert;
import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.HardState;
import io.synod.consensus.LogStorage;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SnapshotMeta;
import io.synod.storage.wal.AppendResult;
import io.synod.storage.wal.Wal;
import io.synod.storage.wal.WalCorruptionException;
import io.synod.storage.wal.WalPosition;
import io.synod.storage.wal.WalRecord;
import io.synod.storage.wal.WalRecordData;
import io.synod.storage.wal.WalWrite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Raft log on disk: a {@link LogStorage} whose entries, hard state and snapshot metadata all
 * live in one {@link Wal}, so that one {@link #save} is one flush. It is meant to behave exactly
 * like {@link io.synod.consensus.MemoryLogStorage} for the same operations, and to come back after
 * a restart with the hard state, snapshot metadata, membership and entries it had acknowledged.
 *
 * <p>Overwrites are logical: an entry record whose index is at or below the last one replaces the
 * suffix from that index, both now and during replay, so hard state records interleaved with the
 * entries are never cut away. Reads use an in-memory index (per entry: term, WAL position and WAL
 * record index) plus a byte-bounded cache of the newest entries; older entries are read back by
 * position. Snapshot <em>data</em> is not stored here ({@link #snapshot()} carries empty data).
 *
 * <p>Release rule: after a snapshot the WAL is cut before the older of (a) the record of the first
 * live entry and (b) the SNAPSHOT record just written, which is followed in the same flush by the
 * current hard state. Live entries were written in index order (an entry can only be written
 * after its predecessor, and rewriting a predecessor drops it), so everything a replay needs is at
 * or after that point. Replay tolerates the stale records that remain before it.
 *
 * <p>Not thread-safe: the Raft driver owns it, like {@code MemoryLogStorage}.
 */
public final class DurableRaftLog implements LogStorage, AutoCloseable {
    private static final byte[] NO_DATA = new byte[0];

    private final Wal wal;
    private final EntryCache cache;
    private HardState hardState = HardState.EMPTY;
    private SnapshotMeta snapshotMeta = SnapshotMeta.EMPTY;
    private ConfState confState;
    private long snapshotWalIndex = 0;

    /** Index of the entry in column slot 0; equals firstIndex() outside of replay. */
    private long base = 1;
    private final LongColumn terms = new LongColumn();
    private final LongColumn positions = new LongColumn();
    private final LongColumn walIndexes = new LongColumn();

    private DurableRaftLog(Wal wal, RaftLogOptions options, ConfState initial) {
        this.wal = wal;
        this.cache = new EntryCache(options.entryCacheBytesMax());
        this.confState = initial;
    }

    /**
     * Opens the log in {@code dir}, replaying what is there.
     *
     * @param initial membership to report until a snapshot records one (the bootstrap
     *                configuration; pass the same value on every start)
     * @throws WalCorruptionException if the WAL is damaged beyond a torn tail, or its records do
     *                                not form a consistent log
     */
    public static DurableRaftLog open(Path dir, RaftLogOptions options, ConfState initial) throws IOException {
        var replay = new Replay(initial, dir);
        Wal wal = Wal.open(dir, options.wal(), replay::record);
        try {
            var log = new DurableRaftLog(wal, options, initial);
            replay.finish(log, dir);
            return log;
        } catch (IOException | RuntimeException e) {
            wal.close();
            throw e;
        }
    }

    /** Rebuilds the in-memory state from the records of the WAL, in order. */
    private static final class Replay {
        HardState hardState = HardState.EMPTY;
        SnapshotMeta snapshotMeta = SnapshotMeta.EMPTY;
        ConfState confState;
        long snapshotWalIndex = 0;
        long base = 1;
        final LongColumn terms = new LongColumn();
        final LongColumn positions = new LongColumn();
        final LongColumn walIndexes = new LongColumn();

        final Path dir;

        Replay(ConfState initial, Path dir) {
            this.confState = initial;
            this.dir = dir;
        }

        private Path file(WalPosition p) {
            return dir.resolve(String.format("%016x.wal", p.segmentSeq()));
        }

        void record(WalRecord r) throws IOException {
            try {
                switch (r.type()) {
                    case RaftLogCodec.ENTRY -> {
                        Entry e = RaftLogCodec.decodeEntry(r.payload());
                        long i = e.index();
                        int size = terms.size();
                        if (size == 0 || i < base || i > base + size) {
                            // Before the release point the WAL holds stale records; an entry that
                            // does not extend what we have restarts the run (see class comment).
                            clear();
                            base = i;
                        } else {
                            truncate((int) (i - base));
                        }
                        terms.add(e.term());
                        positions.add(r.position().pack());
                        walIndexes.add(r.index());
                    }
                    case RaftLogCodec.HARD_STATE -> hardState = RaftLogCodec.decodeHardState(r.payload());
                    case RaftLogCodec.SNAPSHOT -> {
                        var s = RaftLogCodec.decodeSnapshot(r.payload());
                        long idx = s.meta().index();
                        // Keep what the live log kept: (idx, lastIndexAfter]. Entries below the
                        // release point may be unknown here (base > idx + 1); finish() checks that
                        // the final snapshot closes that gap.
                        long last = base + terms.size() - 1;
                        long lo = Math.max(base, idx + 1);
                        long hi = Math.min(last, s.lastIndexAfter());
                        if (lo > hi) {
                            clear();
                            base = idx + 1;
                        } else {
                            truncate((int) (hi - base + 1));
                            int drop = (int) (lo - base);
                            terms.dropFirst(drop);
                            positions.dropFirst(drop);
                            walIndexes.dropFirst(drop);
                            base = lo;
                        }
                        snapshotMeta = s.meta();
                        confState = s.meta().confState();
                        snapshotWalIndex = r.index();
                    }
                    default -> throw new WalCorruptionException(file(r.position()), r.position().offset(),
                            "unknown Raft log record type " + r.type());
                }
            } catch (IllegalArgumentException e) {
                throw new WalCorruptionException(file(r.position()), r.position().offset(),
                        "undecodable Raft log record " + r.index() + ": " + e.getMessage());
            }
        }

        private void truncate(int keep) {
            terms.truncate(keep);
            positions.truncate(keep);
            walIndexes.truncate(keep);
        }

        private void clear() {
            terms.clear();
            positions.clear();
            walIndexes.clear();
        }

        void finish(DurableRaftLog log, Path dir) throws WalCorruptionException {
            if (terms.size() > 0 && base != snapshotMeta.index() + 1) {
                throw new WalCorruptionException(dir, 0, "replayed entries start at " + base + " but the snapshot ends at " + snapshotMeta.index());
            }
            log.hardState = hardState;
            log.snapshotMeta = snapshotMeta;
            log.confState = confState;
            log.snapshotWalIndex = snapshotWalIndex;
            log.base = snapshotMeta.index() + 1;
            for (int i = 0; i < terms.size(); i++) {
                log.terms.add(terms.get(i));
                log.positions.add(positions.get(i));
                log.walIndexes.add(walIndexes.get(i));
            }
            log.checkInvariants();
        }
    }

    // ---------------------------------------------------------------- writes

    /**
     * Makes {@code entries} and {@code hardState} durable with one flush. An empty hard state
     * means "unchanged" (as in a {@code Ready}). Entries must be contiguous, start at or after
     * {@link #firstIndex()} and at most one past {@link #lastIndex()}; entries from the first
     * one's index onwards replace what the log held there. An entry's data may be at most the
     * WAL's {@code recordBytesMax} minus 17 bytes (term, index and type).
     *
     * <p>A crash during the call leaves, after recovery, the log as before plus a prefix of the
     * entries (the hard state only if all of them made it): records are replayed in order.
     */
    public void save(HardState hs, List<Entry> entries) throws IOException {
        save(hs, entries, true);
    }

    /**
     * As {@link #save(HardState, List)}, flushing only if {@code mustSync}. Pass the Ready's
     * {@code mustSync}: it is false only when nothing but the commit index changed, which may be
     * lost in a crash (it is learned again from the leader). Unflushed records become durable
     * with the next flushed save.
     */
    public void save(HardState hs, List<Entry> entries, boolean mustSync) throws IOException {
        if (!entries.isEmpty()) {
            long first = entries.get(0).index();
            Assert.that(first >= firstIndex(), "append at %d before first index %d", first, firstIndex());
            Assert.that(first <= lastIndex() + 1, "append at %d leaves a gap after last index %d", first, lastIndex());
            for (int i = 1; i < entries.size(); i++) {
                Assert.that(entries.get(i).index() == first + i, "non-contiguous append: %d at position %d after %d", entries.get(i).index(), i, first);
            }
        }
        boolean writeHs = !hs.isEmpty() && !hs.equals(hardState);
        if (entries.isEmpty() && !writeHs) return;
        var writes = new ArrayList<WalWrite>(entries.size() + 1);
        for (Entry e : entries) writes.add(new WalWrite(RaftLogCodec.ENTRY, RaftLogCodec.encodeEntry(e)));
        if (writeHs) writes.add(new WalWrite(RaftLogCodec.HARD_STATE, RaftLogCodec.encodeHardState(hs)));
        AppendResult r = wal.appendBatch(writes, mustSync);
        if (!entries.isEmpty()) {
            int keep = (int) (entries.get(0).index() - base);
            terms.truncate(keep);
            positions.truncate(keep);
            walIndexes.truncate(keep);
            for (int i = 0; i < entries.size(); i++) {
                terms.add(entries.get(i).term());
                positions.add(r.positions().get(i).pack());
                walIndexes.add(r.firstIndex() + i);
            }
            cache.append(entries);
        }
        if (writeHs) hardState = hs;
        checkInvariants();
    }

    /** The three columns describe the same entries, starting right after the snapshot. */
    private void checkInvariants() {
        Assert.that(base == snapshotMeta.index() + 1, "column base %d is not snapshot index %d + 1", base, snapshotMeta.index());
        Assert.that(terms.size() == positions.size() && terms.size() == walIndexes.size(),
                "column sizes differ: terms %d positions %d wal indexes %d", terms.size(), positions.size(), walIndexes.size());
    }

    /**
     * Records a snapshot received from the leader and discards the log it covers: entries after
     * it are kept only if the log holds the snapshot's index with the snapshot's term (else the
     * whole log is discarded), as {@code MemoryLogStorage.applySnapshot}. A snapshot not newer than
     * the current one is ignored.
     */
    public void applySnapshot(SnapshotMeta meta) throws IOException {
        long idx = meta.index();
        if (idx <= snapshotMeta.index()) return;
        boolean matches = idx <= lastIndex() && term(idx) == meta.term();
        installSnapshot(meta, matches ? lastIndex() : idx);
    }

    /**
     * Records a snapshot taken locally at {@code index} (already applied by the caller, with
     * membership {@code confState}) and discards the entries it covers, keeping later ones; the
     * counterpart of {@code MemoryLogStorage.createSnapshot}.
     */
    public SnapshotMeta compact(long index, ConfState confState) throws IOException {
        Assert.that(index > snapshotMeta.index() && index <= lastIndex(), "snapshot at %d outside (%d, %d]", index, snapshotMeta.index(), lastIndex());
        var meta = new SnapshotMeta(index, term(index), confState);
        installSnapshot(meta, lastIndex());
        return meta;
    }

    private void installSnapshot(SnapshotMeta meta, long lastIndexAfter) throws IOException {
        long idx = meta.index();
        var writes = new ArrayList<WalWrite>(2);
        writes.add(new WalWrite(RaftLogCodec.SNAPSHOT, RaftLogCodec.encodeSnapshot(meta, lastIndexAfter)));
        // Re-record the hard state after the SNAPSHOT record so that releasing older segments
        // cannot take the only copy of it with them.
        if (!hardState.isEmpty()) writes.add(new WalWrite(RaftLogCodec.HARD_STATE, RaftLogCodec.encodeHardState(hardState)));
        AppendResult r = wal.appendSync(writes);
        if (lastIndexAfter > idx) {
            int drop = (int) (idx + 1 - base);
            terms.dropFirst(drop);
            positions.dropFirst(drop);
            walIndexes.dropFirst(drop);
            cache.dropThrough(idx);
        } else {
            terms.clear();
            positions.clear();
            walIndexes.clear();
            cache.clear();
        }
        base = idx + 1;
        snapshotMeta = meta;
        confState = meta.confState();
        snapshotWalIndex = r.firstIndex();
        checkInvariants();
        long cutoff = walIndexes.size() > 0 ? Math.min(walIndexes.get(0), snapshotWalIndex) : snapshotWalIndex;
        wal.releaseBefore(cutoff);
    }

    // ---------------------------------------------------------------- reads

    @Override public HardState hardState() { return hardState; }
    @Override public ConfState confState() { return confState; }
    @Override public long firstIndex() { return snapshotMeta.index() + 1; }
    @Override public long lastIndex() { return snapshotMeta.index() + terms.size(); }

    /** The latest snapshot's metadata with empty data: snapshot contents are stored elsewhere. */
    @Override
    public Snapshot snapshot() {
        return snapshotMeta.isEmpty() ? Snapshot.EMPTY : new Snapshot(snapshotMeta, NO_DATA);
    }

    public SnapshotMeta snapshotMeta() {
        return snapshotMeta;
    }

    @Override
    public long term(long index) {
        long snapIndex = snapshotMeta.index();
        if (index == snapIndex) return snapshotMeta.term();
        if (index < snapIndex) throw new CompactedException(index, firstIndex());
        Assert.that(index <= lastIndex(), "term(%d) beyond last index %d", index, lastIndex());
        return terms.get((int) (index - base));
    }

    @Override
    public List<Entry> entries(long lo, long hi, long maxBytes) {
        if (lo < firstIndex()) throw new CompactedException(lo, firstIndex());
        Assert.that(hi <= lastIndex() + 1, "entries(%d, %d) beyond last index %d", lo, hi, lastIndex());
        var out = new ArrayList<Entry>((int) Math.min(Math.max(hi - lo, 0), 64));
        long bytes = 0;
        for (long i = lo; i < hi; i++) {
            Entry e = entry(i);
            bytes += e.sizeBytes();
            if (!out.isEmpty() && bytes > maxBytes) break;
            out.add(e);
        }
        return out;
    }

    private Entry entry(long index) {
        Optional<Entry> cached = cache.get(index);
        if (cached.isPresent()) return cached.get();
        var pos = WalPosition.unpack(positions.get((int) (index - base)));
        try {
            WalRecordData d = wal.read(pos);
            Assert.that(d.type() == RaftLogCodec.ENTRY, "record at %s has type %d, expected an entry", pos, d.type());
            Entry e = RaftLogCodec.decodeEntry(d.payload());
            Assert.that(e.index() == index && e.term() == terms.get((int) (index - base)),
                    "record at %s holds entry %d/%d, expected %d/%d", pos, e.term(), e.index(), terms.get((int) (index - base)), index);
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException("reading entry " + index + " at " + pos, e);
        }
    }

    /** Number of WAL segment files currently held (for tests and metrics). */
    public int walSegmentCount() {
        return wal.segmentCount();
    }

    @Override
    public void close() throws IOException {
        wal.close();
    }
}
