package io.synod.replica;

/**
 * {@link ReplicaSnapshotTest} with messages arriving as at a real member: queued on a transport
 * thread that then runs the pass itself when the member is idle. The snapshot a lagging member
 * receives is still installed, and logs still compacted, on the loop threads only.
 */
class ReplicaSnapshotProducerPassTest extends ReplicaSnapshotTest {
    @Override
    boolean producerPasses() {
        return true;
    }
}
