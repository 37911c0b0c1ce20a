package io.synod.storage.wal;

/**
 * Every limit of a {@link Wal}, named with its unit. Values are checked on construction so that
 * a misconfiguration fails at start-up instead of as a corrupt or unreadable log later.
 *
 * @param segmentBytes       size every segment file is preallocated (zero-filled) to; a record
 *                           never straddles two segments
 * @param recordBytesMax     largest payload accepted; the reader also refuses larger length
 *                           fields, so a corrupt length can never make it allocate more than this
 * @param batchRecordsMax    group commit: most records written with one flush
 * @param batchBytesMax      group commit: most payload-plus-framing bytes written with one flush
 *                           (a single record larger than this still goes out, alone)
 * @param pendingRecordsMax  most appends queued for the writer thread; beyond it
 *                           {@link Wal#append} fails fast with {@link WalOverloadedException}
 * @param syncMode           how a batch is made durable
 * @param writeChunkBytesMax largest single {@code write} call; a batch is written in pieces of at
 *                           most this size (bounds the time one call holds the kernel; tests set it
 *                           small so that a killed process really leaves half-written records)
 * @param powerCut           test-only: whether unflushed bytes are kept in memory so a process kill loses them
 *                           as a power cut would ({@link PowerCutEmulation}); {@code OFF} in production
 */
public record WalOptions(
        long segmentBytes,
        int recordBytesMax,
        int batchRecordsMax,
        long batchBytesMax,
        int pendingRecordsMax,
        SyncMode syncMode,
        int writeChunkBytesMax,
        PowerCutEmulation powerCut) {

    /** Segment sizes are addressed with int offsets in {@link WalPosition}; keep well inside that. */
    public static final long SEGMENT_BYTES_LIMIT = 1L << 30;

    public static final WalOptions DEFAULTS = new WalOptions(64L << 20, 4 << 20, 4096, 4L << 20, 65_536, SyncMode.FDATASYNC);

    /** Unlimited write size ({@link #writeChunkBytesMax()} = {@code Integer.MAX_VALUE}), no power-cut emulation. */
    public WalOptions(long segmentBytes, int recordBytesMax, int batchRecordsMax, long batchBytesMax, int pendingRecordsMax, SyncMode syncMode) {
        this(segmentBytes, recordBytesMax, batchRecordsMax, batchBytesMax, pendingRecordsMax, syncMode, Integer.MAX_VALUE);
    }

    /** No power-cut emulation (production). */
    public WalOptions(long segmentBytes, int recordBytesMax, int batchRecordsMax, long batchBytesMax, int pendingRecordsMax, SyncMode syncMode,
            int writeChunkBytesMax) {
        this(segmentBytes, recordBytesMax, batchRecordsMax, batchBytesMax, pendingRecordsMax, syncMode, writeChunkBytesMax, PowerCutEmulation.OFF);
    }

    public WalOptions {
        if (recordBytesMax < 1) throw new IllegalArgumentException("recordBytesMax must be >= 1, got " + recordBytesMax);
        if (segmentBytes > SEGMENT_BYTES_LIMIT) {
            throw new IllegalArgumentException("segmentBytes " + segmentBytes + " exceeds the limit " + SEGMENT_BYTES_LIMIT);
        }
        long smallestSegment = SegmentHeader.BYTES + RecordFormat.HEADER_BYTES + (long) recordBytesMax;
        if (segmentBytes < smallestSegment) {
            throw new IllegalArgumentException("segmentBytes " + segmentBytes + " cannot hold one record of recordBytesMax "
                    + recordBytesMax + " (needs >= " + smallestSegment + ")");
        }
        if (batchRecordsMax < 1) throw new IllegalArgumentException("batchRecordsMax must be >= 1, got " + batchRecordsMax);
        if (batchBytesMax < 1) throw new IllegalArgumentException("batchBytesMax must be >= 1, got " + batchBytesMax);
        if (pendingRecordsMax < 1) throw new IllegalArgumentException("pendingRecordsMax must be >= 1, got " + pendingRecordsMax);
        if (syncMode == null) throw new IllegalArgumentException("syncMode is required");
        if (writeChunkBytesMax < 1) throw new IllegalArgumentException("writeChunkBytesMax must be >= 1, got " + writeChunkBytesMax);
        if (powerCut == null) throw new IllegalArgumentException("powerCut is required (PowerCutEmulation.OFF in production)");
    }

    public WalOptions withSegmentBytes(long v) {
        return new WalOptions(v, recordBytesMax, batchRecordsMax, batchBytesMax, pendingRecordsMax, syncMode, writeChunkBytesMax, powerCut);
    }

    public WalOptions withRecordBytesMax(int v) {
        return new WalOptions(segmentBytes, v, batchRecordsMax, batchBytesMax, pendingRecordsMax, syncMode, writeChunkBytesMax, powerCut);
    }

    public WalOptions withBatch(int recordsMax, long bytesMax) {
        return new WalOptions(segmentBytes, recordBytesMax, recordsMax, bytesMax, pendingRecordsMax, syncMode, writeChunkBytesMax, powerCut);
    }

    public WalOptions withPendingRecordsMax(int v) {
        return new WalOptions(segmentBytes, recordBytesMax, batchRecordsMax, batchBytesMax, v, syncMode, writeChunkBytesMax, powerCut);
    }

    public WalOptions withSyncMode(SyncMode v) {
        return new WalOptions(segmentBytes, recordBytesMax, batchRecordsMax, batchBytesMax, pendingRecordsMax, v, writeChunkBytesMax, powerCut);
    }

    public WalOptions withPowerCut(PowerCutEmulation v) {
        return new WalOptions(segmentBytes, recordBytesMax, batchRecordsMax, batchBytesMax, pendingRecordsMax, syncMode, writeChunkBytesMax, v);
    }

    public WalOptions withWriteChunkBytesMax(int v) {
        return new WalOptions(segmentBytes, recordBytesMax, batchRecordsMax, batchBytesMax, pendingRecordsMax, syncMode, v, powerCut);
    }
}
