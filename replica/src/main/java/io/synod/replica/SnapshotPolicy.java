package io.synod.replica;

/**
 * When a {@link ReplicaDriver} compacts its log, as etcd's {@code --snapshot-count} and
 * {@code --snapshot-catchup-entries} define it. After {@code snapshotCount} entries have been
 * applied since the last compaction, the driver asks the state machine to make its state durable
 * ({@link StateMachine#flush()}) and discards the log up to that durable index minus
 * {@code catchupEntries}: those last entries stay so that a follower only slightly behind can
 * still be caught up by appends instead of a full state transfer.
 *
 * @param snapshotCount  applied entries between two compactions (etcd's default: 100000)
 * @param catchupEntries entries kept behind the compaction point (etcd's default: 5000)
 */
public record SnapshotPolicy(long snapshotCount, long catchupEntries) {
    public static final long DEFAULT_SNAPSHOT_COUNT = 100_000;
    public static final long DEFAULT_CATCHUP_ENTRIES = 5_000;
    public static final SnapshotPolicy DEFAULTS = new SnapshotPolicy(DEFAULT_SNAPSHOT_COUNT, DEFAULT_CATCHUP_ENTRIES);

    public SnapshotPolicy {
        if (snapshotCount < 1 || catchupEntries < 0) {
            throw new IllegalArgumentException("SnapshotPolicy: snapshotCount must be >= 1 and catchupEntries >= 0: "
                    + snapshotCount + "/" + catchupEntries);
        }
    }
}
