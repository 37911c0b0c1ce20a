package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.raft.RaftMessage.SnapshotRequest;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Log compaction and InstallSnapshot (Raft §7): once the leader compacted the entries a follower
 * still needs, it sends its snapshot; the follower restores it and continues from the log. A failed
 * transfer (reportSnapshot(false)) puts the follower back to probing, which sends a new snapshot.
 */
class SnapshotTest {

    private static Network clusterWithCompactedLeader(long seed) {
        var net = Network.founding(seed, b -> b, 1, 2, 3);
        net.elect(1);
        net.crash(3);
        for (int i = 0; i < 20; i++) net.propose(1, "s" + i);
        net.stabilize();
        net.compact(1);
        net.compact(2);
        assertThat(net.node(1).logFirstIndex()).isEqualTo(net.status(1).appliedIndex() + 1);
        return net;
    }

    @Test
    void laggingFollowerReceivesTheSnapshotRestoresItAndCatchesUp_section7() {
        var net = clusterWithCompactedLeader(51);
        long snapIndex = net.member(1).storage.snapshot().meta().index();
        net.restart(3);
        net.clearSent();
        net.heartbeat(1);
        net.heartbeat(1);

        assertThat(net.sent(SnapshotRequest.class)).hasSize(1);
        assertThat(net.sent(SnapshotRequest.class).get(0).snapshot().meta().index()).isEqualTo(snapIndex);
        assertThat(net.member(3).storage.snapshot().meta().index()).isEqualTo(snapIndex);
        assertThat(net.member(3).state).isEqualTo(net.member(1).state).hasSize(20);
        assertThat(net.status(3).confState().voters()).containsExactly(1L, 2L, 3L);

        // And the log continues after the snapshot.
        net.propose(1, "after");
        net.stabilize();
        net.heartbeat(1);
        assertThat(net.member(3).state).endsWith("after").hasSize(21);
        assertThat(net.node(1).progressView().get(3L)).startsWith("REPLICATE");
    }

    @Test
    void failedSnapshotMakesTheLeaderProbeAndResend() {
        var net = clusterWithCompactedLeader(52);
        net.autoReportSnapshot(false);
        net.restart(3);
        net.drop(m -> m instanceof SnapshotRequest);
        net.heartbeat(1);
        assertThat(net.sent(SnapshotRequest.class)).hasSize(1);
        assertThat(net.node(1).progressView().get(3L)).startsWith("SNAPSHOT");

        // While the snapshot is "in flight", heartbeats do not trigger another one.
        net.heartbeat(1);
        assertThat(net.sent(SnapshotRequest.class)).hasSize(1);

        net.node(1).reportSnapshot(3, false);
        net.process(1);
        assertThat(net.node(1).progressView().get(3L)).startsWith("PROBE");
        net.heal();
        net.heartbeat(1);
        net.heartbeat(1);
        assertThat(net.sent(SnapshotRequest.class)).hasSize(2);
        net.node(1).reportSnapshot(3, true);
        net.heartbeat(1);
        assertThat(net.member(3).state).isEqualTo(net.member(1).state);
        assertThat(net.node(1).progressView().get(3L)).startsWith("REPLICATE");
    }

    @Test
    void restartedMemberRebuildsItsStateFromSnapshotAndLog() {
        var net = Network.founding(53, b -> b, 1, 2, 3);
        net.elect(1);
        for (int i = 0; i < 5; i++) net.propose(1, "a" + i);
        net.stabilize();
        net.compact(2);
        for (int i = 0; i < 5; i++) net.propose(1, "b" + i);
        net.stabilize();
        net.heartbeat(1);
        var before = net.member(2).state;
        net.crash(2);
        net.restart(2);
        net.heartbeat(1);
        assertThat(net.member(2).state).isEqualTo(before).hasSize(10);
    }
}
