package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.ProposeResult;
import io.synod.consensus.Ready;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Flow control knobs beyond batching: the in-flight byte window, paging of committed entries
 * across Readies, the bound on waiting ReadIndex requests, and reportUnreachable sending the
 * leader back to probing a follower.
 */
class FlowControlTest {

    @Test
    void inflightBytesMaxPausesAFollowerUntilAcknowledgements() {
        String payload = "b".repeat(100); // 124 bytes with the header
        var net = Network.founding(91, b -> b.inflightBytesMax(300).appendEntriesMax(1), 1, 2, 3);
        net.elect(1);
        net.clearSent();
        for (int i = 0; i < 10; i++) net.propose(1, payload);
        long toTwo = net.sent(AppendRequest.class).stream().filter(a -> a.to() == 2 && !a.entries().isEmpty()).count();
        assertThat(toTwo).as("appends sent before the window of 300 bytes filled").isEqualTo(3);
        net.stabilize();
        net.heartbeat(1);
        assertThat(net.member(2).state).hasSize(10);
    }

    @Test
    void committedEntriesArePagedAcrossReadiesButAllApplyInOrder() {
        var net = Network.founding(92, b -> b.committedBytesPerReadyMax(200), 1, 2, 3);
        net.elect(1);
        int[] maxPerReady = {0};
        var lastApplied = new java.util.TreeMap<Long, Long>();
        for (long id : net.ids()) lastApplied.put(id, net.member(id).appliedIndex);
        net.onApply((id, e) -> {
            long prev = lastApplied.getOrDefault(id, 0L);
            if (e.index() != 1) assertThat(e.index()).as("apply order on %d", id).isEqualTo(prev + 1); // 1: (re)start
            lastApplied.put(id, e.index());
        });
        for (int i = 0; i < 12; i++) net.propose(1, "c".repeat(90) + i);
        net.stabilize();
        net.heartbeat(1);
        assertThat(net.member(2).state).hasSize(12).endsWith("c".repeat(90) + 11);

        // Directly: a node with many committed entries hands them out a few at a time.
        net.crash(3);
        net.restart(3);
        // restart re-applied everything through several Readies; check it against the leader.
        assertThat(net.member(3).state).isEqualTo(net.member(1).state);
        var single = Network.founding(93, b -> b.committedBytesPerReadyMax(200), 1);
        single.elect(1);
        for (int i = 0; i < 6; i++) single.node(1).propose(("d".repeat(90) + i).getBytes());
        while (single.node(1).hasReady()) {
            Ready rd = single.node(1).ready();
            single.member(1).storage.append(rd.entries());
            if (!rd.hardState().isEmpty()) single.member(1).storage.setHardState(rd.hardState());
            maxPerReady[0] = Math.max(maxPerReady[0], rd.committedEntries().size());
            single.node(1).advance(rd);
        }
        assertThat(maxPerReady[0]).as("200 bytes per Ready fit one 115-byte entry").isEqualTo(1);
        assertThat(single.status(1).appliedIndex()).isEqualTo(single.status(1).commitIndex());
    }

    @Test
    void tooManyWaitingReadsAreOverloaded() {
        var net = Network.founding(94, b -> b.pendingReadsMax(2), 1, 2, 3);
        net.elect(1);
        net.isolate(2);
        net.isolate(3);
        assertThat(net.readIndex(1, "a").isAccepted()).isTrue();
        assertThat(net.readIndex(1, "b").isAccepted()).isTrue();
        ProposeResult r = net.readIndex(1, "c");
        assertThat(r).isInstanceOf(ProposeResult.Rejected.class);
        assertThat(((ProposeResult.Rejected) r).reason()).isEqualTo(ProposeResult.Reason.OVERLOADED);
        net.heal();
        net.heartbeat(1);
        assertThat(net.member(1).readStates).hasSize(2);
        assertThat(net.readIndex(1, "d").isAccepted()).isTrue();
    }

    @Test
    void reportUnreachableSendsTheLeaderBackToProbing() {
        var net = Network.founding(95, b -> b, 1, 2, 3);
        net.elect(1);
        assertThat(net.node(1).progressView().get(2L)).startsWith("REPLICATE");
        net.node(1).reportUnreachable(2);
        assertThat(net.node(1).progressView().get(2L)).startsWith("PROBE");
        net.clearSent();
        net.propose(1, "x");
        // In probe state at most one append is outstanding.
        net.propose(1, "y");
        assertThat(net.sent(AppendRequest.class).stream().filter(a -> a.to() == 2).count()).isEqualTo(1);
        net.stabilize();
        net.heartbeat(1);
        assertThat(net.member(2).state).containsExactly("x", "y");
        assertThat(net.node(1).progressView().get(2L)).startsWith("REPLICATE");
    }
}
