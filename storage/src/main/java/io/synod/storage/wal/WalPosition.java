package io.synod.storage.wal;

import io.synod.common.Assert;

/**
 * Where a record sits on disk: segment sequence number and the byte offset of its frame. Callers
 * that index many records (the Raft log) keep the {@link #pack() packed} long form to avoid an
 * object per entry.
 */
public record WalPosition(long segmentSeq, int offset) {
    public WalPosition {
        Assert.that(segmentSeq >= 0 && segmentSeq <= Integer.MAX_VALUE, "segment seq %d out of range", segmentSeq);
        Assert.that(offset >= 0, "offset %d must be >= 0", offset);
    }

    public long pack() {
        return (segmentSeq << 32) | (offset & 0xFFFF_FFFFL);
    }

    public static WalPosition unpack(long packed) {
        return new WalPosition(packed >>> 32, (int) packed);
    }
}
