package io.synod.storage.raftlog;

import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.HardState;
import io.synod.consensus.SnapshotMeta;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Payload formats of the Raft log's WAL records (big-endian). The WAL type byte says which:
 * <ul>
 *   <li>{@link #ENTRY}: {@code [term:long][index:long][entryType:byte][data...]}. An entry at
 *       an index at or below the last one means the suffix from that index was overwritten.</li>
 *   <li>{@link #HARD_STATE}: {@code [term:long][vote:long][commit:long]}.</li>
 *   <li>{@link #SNAPSHOT}: {@code [index:long][term:long][lastIndexAfter:long][confState]}, where
 *       {@code lastIndexAfter} is the log's last index once the snapshot was applied (equal to
 *       {@code index} when the log was discarded), so replay needs no term lookups.</li>
 * </ul>
 */
final class RaftLogCodec {
    private RaftLogCodec() {}

    static final byte ENTRY = 1;
    static final byte HARD_STATE = 2;
    static final byte SNAPSHOT = 3;

    static final int ENTRY_HEADER_BYTES = 17;

    /** A decoded SNAPSHOT record. */
    record SnapshotRecord(SnapshotMeta meta, long lastIndexAfter) {}

    static byte[] encodeEntry(Entry e) {
        return ByteBuffer.allocate(ENTRY_HEADER_BYTES + e.data().length)
                .putLong(e.term()).putLong(e.index()).put((byte) e.type().ordinal()).put(e.data()).array();
    }

    static Entry decodeEntry(byte[] p) {
        try {
            var b = ByteBuffer.wrap(p);
            long term = b.getLong();
            long index = b.getLong();
            int t = b.get();
            EntryType[] types = EntryType.values();
            if (t < 0 || t >= types.length) throw new IllegalArgumentException("unknown entry type " + t);
            byte[] data = new byte[b.remaining()];
            b.get(data);
            return new Entry(term, index, types[t], data);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("entry record of " + p.length + " bytes is too short", e);
        }
    }

    static byte[] encodeHardState(HardState hs) {
        return ByteBuffer.allocate(24).putLong(hs.term()).putLong(hs.vote()).putLong(hs.commit()).array();
    }

    static HardState decodeHardState(byte[] p) {
        if (p.length != 24) throw new IllegalArgumentException("hard state record of " + p.length + " bytes, expected 24");
        var b = ByteBuffer.wrap(p);
        return new HardState(b.getLong(), b.getLong(), b.getLong());
    }

    static byte[] encodeSnapshot(SnapshotMeta meta, long lastIndexAfter) {
        ConfState cs = meta.confState();
        int n = cs.voters().size() + cs.learners().size() + cs.votersOutgoing().size() + cs.learnersNext().size();
        var b = ByteBuffer.allocate(24 + 16 + 8 * n + 1);
        b.putLong(meta.index()).putLong(meta.term()).putLong(lastIndexAfter);
        putSet(b, cs.voters());
        putSet(b, cs.learners());
        putSet(b, cs.votersOutgoing());
        putSet(b, cs.learnersNext());
        b.put((byte) (cs.autoLeave() ? 1 : 0));
        return b.array();
    }

    static SnapshotRecord decodeSnapshot(byte[] p) {
        try {
            var b = ByteBuffer.wrap(p);
            long index = b.getLong();
            long term = b.getLong();
            long lastIndexAfter = b.getLong();
            Set<Long> voters = getSet(b);
            Set<Long> learners = getSet(b);
            Set<Long> outgoing = getSet(b);
            Set<Long> next = getSet(b);
            boolean autoLeave = b.get() == 1;
            if (b.hasRemaining()) throw new IllegalArgumentException("snapshot record has " + b.remaining() + " trailing bytes");
            var meta = new SnapshotMeta(index, term, new ConfState(voters, learners, outgoing, next, autoLeave));
            return new SnapshotRecord(meta, lastIndexAfter);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("snapshot record of " + p.length + " bytes is too short", e);
        }
    }

    private static void putSet(ByteBuffer b, Set<Long> s) {
        b.putInt(s.size());
        for (long v : new TreeSet<>(s)) b.putLong(v);
    }

    private static Set<Long> getSet(ByteBuffer b) {
        int n = b.getInt();
        // Bounded by what is left, so a bad count cannot allocate more than the record holds.
        if (n < 0 || (long) n * 8 > b.remaining()) throw new IllegalArgumentException("member count " + n + " does not fit in " + b.remaining() + " bytes");
        var s = new HashSet<Long>(n * 2);
        for (int i = 0; i < n; i++) s.add(b.getLong());
        return s;
    }
}
