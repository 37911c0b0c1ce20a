package io.synod.consensus;

/**
 * Where a snapshot sits in the log: it covers every entry up to and including {@code index},
 * whose term was {@code term}, and carries the membership in force at that index.
 */
public record SnapshotMeta(long index, long term, ConfState confState) {
    public static final SnapshotMeta EMPTY = new SnapshotMeta(0, 0, ConfState.EMPTY);

    public SnapshotMeta {
        if (index < 0 || term < 0) throw new IllegalArgumentException("snapshot index/term must be >= 0: " + index + "/" + term);
    }

    public boolean isEmpty() {
        return index == 0;
    }
}
