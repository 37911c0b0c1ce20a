package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.ProposeResult;
import io.synod.consensus.Role;
import io.synod.raft.RaftMessage.HeartbeatResponse;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Regressions for two read bugs found by the scenario tests: a read forwarded by a follower vanished
 * when the leader changed (neither a ReadState nor an abort), and lease-based reads were served by a
 * leader that had already lost its lease.
 */
class ReadRegressionTest {

    /** ConsensusNode.readIndex: "a ReadState ... appears in a later Ready (or the context appears in readsAborted)". */
    @Test
    void forwardedReadIsAbortedOnTheFollowerWhenTheLeaderChanges() {
        var net = Network.founding(101, b -> b, 1, 2, 3);
        net.elect(1);
        net.drop(m -> m instanceof HeartbeatResponse); // the leader cannot confirm the read
        assertThat(net.readIndex(2, "fwd").isAccepted()).isTrue();
        net.stabilize();
        net.heal();
        net.transferLeadership(1, 3);
        net.stabilize();
        net.heartbeat(3);
        assertThat(net.leader()).isEqualTo(3);
        assertThat(net.status(2).leader()).isEqualTo(3);
        // The read was lost with the old leader: node 2 must report it one way or the other.
        assertThat(net.member(2).readStates.size() + net.member(2).readsAborted.size())
                .as("read 'fwd' on 2: readStates=%s aborted=%s", net.member(2).readStates, net.member(2).readsAborted)
                .isEqualTo(1);
    }

    /**
     * leaseBasedReads with perfectly synchronized ticks (no clock drift at all): the old leader must
     * not answer a read with an index that misses a write the new leader already committed.
     */
    @Test
    void leaseReadOnADeposedLeaderMissesACommittedWrite() {
        var net = Network.founding(102, b -> b.leaseBasedReads(true).electionTicks(10), 1, 2, 3);
        net.elect(1);
        // Run in lockstep until just after a check-quorum round of the leader (its recentActive flags reset,
        // then refreshed by the responses to the heartbeat of the same tick).
        for (int i = 0; i < 10; i++) net.tickAll(1);
        net.isolate(1);
        long writeIndex = 0;
        long staleRead = -1;
        for (int t = 0; t < 40 && staleRead < 0; t++) {
            net.tickAll(1);
            long lead = 0;
            for (long id : new long[] {2, 3}) if (net.status(id).role() == Role.LEADER) lead = id;
            if (lead != 0 && writeIndex == 0) {
                var r = net.propose(lead, "w");
                net.stabilize();
                if (r instanceof ProposeResult.Accepted a && net.status(lead).commitIndex() >= a.index()) writeIndex = a.index();
            }
            if (writeIndex != 0 && net.status(1).role() == Role.LEADER) {
                int before = net.member(1).readStates.size();
                net.readIndex(1, "lease" + t);
                if (net.member(1).readStates.size() > before) staleRead = net.member(1).readStates.get(before).index();
            }
        }
        System.out.println("lease read: write committed at " + writeIndex + ", old leader answered " + staleRead);
        assertThat(writeIndex).isPositive();
        assertThat(staleRead).as("old leader served a lease read after the new leader committed index %d", writeIndex).isEqualTo(-1);
    }
}
