package io.synod.replica;

/**
 * Every bound of a {@link ReplicaDriver}, validated once. The inbox is the only way into the
 * driver's thread, so its depth bounds the memory held by work not yet seen by the core.
 *
 * @param inboxDepthMax       events (proposals, reads, peer messages, ticks) queued for the loop;
 *                            a full inbox rejects proposals and reads with {@link ReplicaException.Kind#OVERLOADED}
 *                            and drops peer messages (Raft tolerates loss)
 * @param drainBatchMax       events handled per loop iteration before the core's Ready is processed
 * @param pendingProposalsMax proposals accepted by the core whose entries are not yet applied
 * @param pendingReadsMax     linearizable reads waiting for a read index or for the apply to reach it
 * @param idlePollMillis      how long the loop waits for an event when there is nothing to do
 * @param applyBatchMax       committed commands handed to the state machine in one {@link StateMachine#applyBatch} call
 * @param applyBatchBytesMax  command bytes in one such call (a single larger command still goes alone)
 */
public record ReplicaLimits(int inboxDepthMax, int drainBatchMax, int pendingProposalsMax, int pendingReadsMax, long idlePollMillis,
        int applyBatchMax, long applyBatchBytesMax) {
    public static final ReplicaLimits DEFAULTS = new ReplicaLimits(16_384, 1024, 65_536, 65_536, 50, 256, 4L << 20);

    public ReplicaLimits {
        if (inboxDepthMax < 1 || drainBatchMax < 1 || pendingProposalsMax < 1 || pendingReadsMax < 1 || idlePollMillis < 1
                || applyBatchMax < 1 || applyBatchBytesMax < 1) {
            throw new IllegalArgumentException("ReplicaLimits: every limit must be >= 1: " + inboxDepthMax + "/" + drainBatchMax
                    + "/" + pendingProposalsMax + "/" + pendingReadsMax + "/" + idlePollMillis + "/" + applyBatchMax + "/" + applyBatchBytesMax);
        }
    }
}
