package io.synod.server.transport;

/**
 * Bounds of snapshot transfer between members (the out-of-band stream that carries a state
 * machine snapshot to a follower that is behind the leader's compacted log).
 *
 * @param chunkBytes            state bytes per chunk frame; a chunk is the unit of checksum, flow
 *                              control and memory on both sides
 * @param sendsMax              snapshots this member sends at once; a send beyond it fails at once
 *                              and the leader retries after the follower's next heartbeat answer
 * @param receivesMax           snapshots this member receives at once; more are refused
 * @param chunkTimeoutMillis    longest a sender waits for flow control to accept the next chunk
 * @param transferTimeoutMillis longest one whole transfer may take (including the follower's ack)
 * @param receiveBytesMax       largest snapshot stream accepted, so a runaway sender cannot fill the disk
 * @param receiveFilesMax       most files one snapshot may hold
 */
public record SnapshotLimits(int chunkBytes, int sendsMax, int receivesMax, long chunkTimeoutMillis, long transferTimeoutMillis,
        long receiveBytesMax, int receiveFilesMax) {
    public static final int DEFAULT_CHUNK_BYTES = 1 << 20;
    public static final int DEFAULT_SENDS_MAX = 2;
    public static final SnapshotLimits DEFAULTS = new SnapshotLimits(DEFAULT_CHUNK_BYTES, DEFAULT_SENDS_MAX, 1, 10_000, 600_000,
            64L << 30, 100_000);

    /** Frame overhead beyond the chunk's data (kind, index, sequence, checksum, flag); see SnapshotFrames. */
    static final int CHUNK_FRAME_OVERHEAD_BYTES = 1 + 8 + 4 + 4 + 1;

    public SnapshotLimits {
        // MvccSnapshot needs room for a file header (name up to 512 bytes) in a chunk.
        if (chunkBytes < 1024 || sendsMax < 1 || receivesMax < 1 || chunkTimeoutMillis < 1 || transferTimeoutMillis < chunkTimeoutMillis
                || receiveBytesMax < 1 || receiveFilesMax < 1) {
            throw new IllegalArgumentException("SnapshotLimits out of range: chunkBytes " + chunkBytes + " (>= 1024), sendsMax " + sendsMax
                    + ", receivesMax " + receivesMax + ", chunkTimeoutMillis " + chunkTimeoutMillis + ", transferTimeoutMillis "
                    + transferTimeoutMillis + ", receiveBytesMax " + receiveBytesMax + ", receiveFilesMax " + receiveFilesMax);
        }
    }

    public SnapshotLimits withChunkBytes(int bytes) {
        return new SnapshotLimits(bytes, sendsMax, receivesMax, chunkTimeoutMillis, transferTimeoutMillis, receiveBytesMax, receiveFilesMax);
    }

    public SnapshotLimits withSendsMax(int max) {
        return new SnapshotLimits(chunkBytes, max, receivesMax, chunkTimeoutMillis, transferTimeoutMillis, receiveBytesMax, receiveFilesMax);
    }

    /** Largest frame a transfer produces; the peer listener's inbound message limit must allow it. */
    public int frameBytesMax() {
        return chunkBytes + CHUNK_FRAME_OVERHEAD_BYTES;
    }
}
