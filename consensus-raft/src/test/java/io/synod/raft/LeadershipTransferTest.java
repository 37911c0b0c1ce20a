package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Role;
import io.synod.raft.RaftMessage.AppendResponse;
import io.synod.raft.RaftMessage.TimeoutNow;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Leadership transfer (Raft thesis §3.10): the leader brings the transferee's log up to date, then
 * sends TimeoutNow; the transferee campaigns at once (no pre-vote, no lease) and wins. A transfer
 * that cannot finish within an election timeout is abandoned and proposals are accepted again.
 */
class LeadershipTransferTest {

    @Test
    void transferToAnUpToDateFollowerSendsTimeoutNowAtOnce() {
        var net = Network.founding(71, b -> b, 1, 2, 3);
        net.elect(1);
        net.clearSent();
        assertThat(net.transferLeadership(1, 3).isAccepted()).isTrue();
        assertThat(net.queued()).anyMatch(m -> m instanceof TimeoutNow t && t.to() == 3);
        net.stabilize();
        assertThat(net.leader()).isEqualTo(3);
        assertThat(net.status(3).term()).isEqualTo(3);
        assertThat(net.status(1).leader()).isEqualTo(3);
        net.propose(3, "from-3");
        net.stabilize();
        net.heartbeat(3);
        assertThat(net.member(1).state).containsExactly("from-3");
    }

    @Test
    void transferToALaggingFollowerCatchesItUpFirst() {
        var net = Network.founding(72, b -> b, 1, 2, 3);
        net.elect(1);
        net.isolate(3);
        for (int i = 0; i < 10; i++) net.propose(1, "e" + i);
        net.stabilize();
        net.heal();
        net.clearSent();
        long leaderLast = net.status(1).lastIndex();

        assertThat(net.transferLeadership(1, 3).isAccepted()).isTrue();
        assertThat(net.queued()).noneMatch(m -> m instanceof TimeoutNow);
        // The appends 3 missed were sent optimistically (and lost); the next heartbeat round finds
        // out where 3 really is.
        net.heartbeat(1);

        assertThat(net.leader()).isEqualTo(3);
        // TimeoutNow only went out after 3 acknowledged the leader's whole log.
        var sent = net.sent();
        int timeoutNowAt = -1, caughtUpAt = -1;
        for (int i = 0; i < sent.size(); i++) {
            if (sent.get(i) instanceof TimeoutNow && timeoutNowAt < 0) timeoutNowAt = i;
            if (sent.get(i) instanceof AppendResponse r && r.from() == 3 && !r.rejected() && r.index() == leaderLast && caughtUpAt < 0) caughtUpAt = i;
        }
        assertThat(caughtUpAt).isGreaterThanOrEqualTo(0);
        assertThat(timeoutNowAt).isGreaterThan(caughtUpAt);
        assertThat(net.member(3).state).hasSize(10);
    }

    @Test
    void transferThatCannotFinishIsAbandonedAfterAnElectionTimeout() {
        var net = Network.founding(73, b -> b.electionTicks(10), 1, 2, 3);
        net.elect(1);
        net.crash(3);
        assertThat(net.transferLeadership(1, 3).isAccepted()).isTrue();
        assertThat(net.propose(1, "x").isAccepted()).isFalse();
        for (int i = 0; i < 10; i++) {
            net.tick(1);
            net.stabilize();
        }
        assertThat(net.status(1).role()).isEqualTo(Role.LEADER);
        assertThat(net.propose(1, "x").isAccepted()).isTrue();
    }

    @Test
    void transferToItselfIsANoOp() {
        var net = Network.founding(74, b -> b, 1, 2, 3);
        net.elect(1);
        assertThat(net.transferLeadership(1, 1).isAccepted()).isTrue();
        net.stabilize();
        assertThat(net.leader()).isEqualTo(1);
        assertThat(net.propose(1, "x").isAccepted()).isTrue();
    }
}
