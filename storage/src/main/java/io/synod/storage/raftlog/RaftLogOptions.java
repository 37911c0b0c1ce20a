package io.synod.storage.raftlog;

import io.synod.storage.wal.WalOptions;

/**
 * Limits of a {@link DurableRaftLog}.
 *
 * @param wal                 options of the underlying WAL
 * @param entryCacheBytesMax  bytes (by {@code Entry.sizeBytes()}) of the most recent entries kept
 *                            in memory; older entries are read back from the WAL by position
 */
public record RaftLogOptions(WalOptions wal, long entryCacheBytesMax) {
    public static final RaftLogOptions DEFAULTS = new RaftLogOptions(WalOptions.DEFAULTS, 64L << 20);

    public RaftLogOptions {
        if (wal == null) throw new IllegalArgumentException("wal options are required");
        if (entryCacheBytesMax < 0) throw new IllegalArgumentException("entryCacheBytesMax must be >= 0, got " + entryCacheBytesMax);
    }
}
