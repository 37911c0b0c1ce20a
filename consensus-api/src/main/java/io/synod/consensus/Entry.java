package io.synod.consensus;

import java.util.Arrays;

/**
 * One replicated log entry. The consensus core treats {@code data} as opaque bytes; only
 * {@link EntryType#CONF_CHANGE} entries are decoded by it. The array is never mutated after
 * construction (by anyone), which is what lets entries be shared between the unstable log,
 * messages and storage without copies on the hot path.
 *
 * @param term  the leader term in which the entry was created; >= 1
 * @param index the position in the log; >= 1
 */
public record Entry(long term, long index, EntryType type, byte[] data) {
    private static final byte[] EMPTY = new byte[0];

    public Entry {
        if (term < 1 || index < 1) {
            throw new IllegalArgumentException("entry term and index must be >= 1, got term=" + term + " index=" + index);
        }
        if (type == null || data == null) throw new IllegalArgumentException("entry type and data are required");
    }

    public static Entry normal(long term, long index, byte[] data) {
        return new Entry(term, index, EntryType.NORMAL, data);
    }

    public static Entry noop(long term, long index) {
        return new Entry(term, index, EntryType.NORMAL, EMPTY);
    }

    /** Bytes this entry counts for in batch and message size limits (payload plus a fixed header). */
    public long sizeBytes() {
        return data.length + 24L;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.term == term && e.index == index && e.type == type && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(term) * 31 * 31 + Long.hashCode(index) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Entry[" + term + "/" + index + " " + type + " " + data.length + "B]";
    }
}
