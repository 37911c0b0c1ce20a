package io.synod.mvcc;

import io.synod.common.Assert;

/**
 * Every limit the state machine enforces, in one place. Limits that change which commands are
 * rejected ({@code maxTxnOps}, {@code maxTxnDepth}) must be identical on all members, since
 * apply must be deterministic; the rest only affect pacing and durability.
 *
 * @param maxTxnOps            most compares, and most ops per branch, in one txn (etcd: 128)
 * @param maxTxnDepth          most levels of nested txn (1 = no nesting allowed beyond the top)
 * @param compactionBatch      most old revisions physically removed per compaction step
 * @param compactionStepsPerApply compaction steps run after each applied command while one is
 *                             pending, so a busy node still finishes; 0 leaves it all to
 *                             {@link MvccStore#runCompactionStep()}
 * @param maxEventsPerCatchUp  most events one {@link MvccStore#changesSince} call returns
 *                             (whole revisions are never split, so this may be exceeded by one revision)
 * @param rocksWal             keep RocksDB's own WAL (unsynced); see {@link MvccStore} for why it is off by default
 * @param writeBufferBytes     RocksDB memtable size per column family: memory held before a flush to disk
 * @param leaseRevokeKeysMax   most keys one lease revoke or expiry deletes; a lease with more is
 *                             deleted over several commands (see {@link LeaseCommand.Revoke}), so
 *                             that one revoke never holds up the apply loop for long. Changes
 *                             results, so it must be identical on all members.
 */
public record MvccOptions(
        int maxTxnOps,
        int maxTxnDepth,
        int compactionBatch,
        int compactionStepsPerApply,
        int maxEventsPerCatchUp,
        boolean rocksWal,
        long writeBufferBytes,
        int leaseRevokeKeysMax) {
    public MvccOptions {
        Assert.that(maxTxnOps > 0, "maxTxnOps must be positive: %d", maxTxnOps);
        Assert.that(maxTxnDepth > 0, "maxTxnDepth must be positive: %d", maxTxnDepth);
        Assert.that(compactionBatch > 0, "compactionBatch must be positive: %d", compactionBatch);
        Assert.that(compactionStepsPerApply >= 0, "compactionStepsPerApply must be >= 0: %d", compactionStepsPerApply);
        Assert.that(maxEventsPerCatchUp > 0, "maxEventsPerCatchUp must be positive: %d", maxEventsPerCatchUp);
        Assert.that(writeBufferBytes >= 64 * 1024, "writeBufferBytes must be at least 64 KiB: %d", writeBufferBytes);
        Assert.that(leaseRevokeKeysMax > 0, "leaseRevokeKeysMax must be positive: %d", leaseRevokeKeysMax);
    }

    public static MvccOptions defaults() {
        return new MvccOptions(128, 16, 1000, 1, 10_000, false, 64L << 20, 1000);
    }

    public MvccOptions withMaxTxnOps(int n) {
        return new MvccOptions(n, maxTxnDepth, compactionBatch, compactionStepsPerApply, maxEventsPerCatchUp, rocksWal, writeBufferBytes, leaseRevokeKeysMax);
    }

    public MvccOptions withCompaction(int batch, int stepsPerApply) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, batch, stepsPerApply, maxEventsPerCatchUp, rocksWal, writeBufferBytes, leaseRevokeKeysMax);
    }

    public MvccOptions withMaxEventsPerCatchUp(int n) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, compactionBatch, compactionStepsPerApply, n, rocksWal, writeBufferBytes, leaseRevokeKeysMax);
    }

    public MvccOptions withRocksWal(boolean on) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, compactionBatch, compactionStepsPerApply, maxEventsPerCatchUp, on, writeBufferBytes, leaseRevokeKeysMax);
    }

    public MvccOptions withWriteBufferBytes(long bytes) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, compactionBatch, compactionStepsPerApply, maxEventsPerCatchUp, rocksWal, bytes, leaseRevokeKeysMax);
    }

    public MvccOptions withLeaseRevokeKeysMax(int n) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, compactionBatch, compactionStepsPerApply, maxEventsPerCatchUp, rocksWal, writeBufferBytes, n);
    }
}
