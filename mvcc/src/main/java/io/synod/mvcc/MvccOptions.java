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
 */
public record MvccOptions(
        int maxTxnOps,
        int maxTxnDepth,
        int compactionBatch,
        int compactionStepsPerApply,
        int maxEventsPerCatchUp,
        boolean rocksWal) {
    public MvccOptions {
        Assert.that(maxTxnOps > 0, "maxTxnOps must be positive: %d", maxTxnOps);
        Assert.that(maxTxnDepth > 0, "maxTxnDepth must be positive: %d", maxTxnDepth);
        Assert.that(compactionBatch > 0, "compactionBatch must be positive: %d", compactionBatch);
        Assert.that(compactionStepsPerApply >= 0, "compactionStepsPerApply must be >= 0: %d", compactionStepsPerApply);
        Assert.that(maxEventsPerCatchUp > 0, "maxEventsPerCatchUp must be positive: %d", maxEventsPerCatchUp);
    }

    public static MvccOptions defaults() {
        return new MvccOptions(128, 16, 1000, 1, 10_000, false);
    }

    public MvccOptions withMaxTxnOps(int n) {
        return new MvccOptions(n, maxTxnDepth, compactionBatch, compactionStepsPerApply, maxEventsPerCatchUp, rocksWal);
    }

    public MvccOptions withCompaction(int batch, int stepsPerApply) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, batch, stepsPerApply, maxEventsPerCatchUp, rocksWal);
    }

    public MvccOptions withMaxEventsPerCatchUp(int n) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, compactionBatch, compactionStepsPerApply, n, rocksWal);
    }

    public MvccOptions withRocksWal(boolean on) {
        return new MvccOptions(maxTxnOps, maxTxnDepth, compactionBatch, compactionStepsPerApply, maxEventsPerCatchUp, on);
    }
}
