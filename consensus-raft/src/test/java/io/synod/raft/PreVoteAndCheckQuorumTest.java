package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Role;
import io.synod.raft.RaftMessage.VoteRequest;
import io.synod.raft.RaftMessage.VoteResponse;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Disruption control: pre-vote (Raft thesis §9.6) keeps a member that was partitioned away from
 * bumping the group's term when it comes back; check-quorum (thesis §6.2) makes a leader cut off
 * from a quorum step down, and gives followers a lease during which they ignore vote requests
 * (thesis §4.2.3) — except for a leadership transfer's TimeoutNow election (thesis §3.10).
 */
class PreVoteAndCheckQuorumTest {

    /** Isolates 3, lets the leader commit without it, ticks 3 for several election timeouts, then heals. */
    private static Network partitionedFollowerReturns(boolean preVote) {
        var net = Network.founding(11, b -> b.preVote(preVote).checkQuorum(false), 1, 2, 3);
        net.elect(1);
        net.isolate(3);
        net.propose(1, "while-3-is-away");
        net.stabilize();
        for (int i = 0; i < 100; i++) net.tick(3);
        net.drainQueue();
        return net;
    }

    @Test
    void preVote_partitionedMemberDoesNotBumpTheTermOrDeposeTheLeader_thesis9_6() {
        var net = partitionedFollowerReturns(true);
        assertThat(net.status(3).term()).as("pre-vote leaves the term alone").isEqualTo(2);
        assertThat(net.status(3).role()).isEqualTo(Role.PRE_CANDIDATE);

        net.heal();
        for (int i = 0; i < 30; i++) { // 3 keeps timing out and pre-voting; the leader keeps heartbeating
            net.tick(3);
            net.tick(1);
            net.stabilize();
        }
        assertThat(net.leader()).isEqualTo(1);
        for (long id : net.ids()) assertThat(net.status(id).term()).as("term of %d", id).isEqualTo(2);
        assertThat(net.member(1).roles).containsExactly(io.synod.consensus.Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE, Role.LEADER);
        assertThat(net.member(3).state).containsExactly("while-3-is-away");
    }

    @Test
    void withoutPreVote_theReturningMemberBumpsTheTermAndDeposesTheLeader() {
        var net = partitionedFollowerReturns(false);
        long awayTerm = net.status(3).term();
        assertThat(awayTerm).as("each timeout started a real election").isGreaterThan(3);

        net.heal();
        for (int i = 0; i < 100 && net.status(3).term() == awayTerm; i++) net.tick(3); // its next election
        net.stabilize(); // ... reaches the others
        assertThat(net.status(1).role()).as("old leader deposed").isNotEqualTo(Role.LEADER);
        assertThat(net.status(1).term()).isGreaterThan(awayTerm);
        // 3 cannot win (its log is behind), but the group had to hold a new election.
        net.tickAll(60);
        long lead = net.leader();
        assertThat(lead).isIn(1L, 2L);
        assertThat(net.status(lead).term()).isGreaterThan(awayTerm);
    }

    @Test
    void checkQuorum_anIsolatedLeaderStepsDownWithinTwoElectionTimeouts_thesis6_2() {
        var net = Network.founding(12, b -> b.electionTicks(10), 1, 2, 3);
        net.elect(1);
        net.isolate(1);
        int ticks = 0;
        while (net.status(1).role() == Role.LEADER && ticks < 100) {
            net.tick(1);
            ticks++;
        }
        assertThat(net.status(1).role()).isEqualTo(Role.FOLLOWER);
        assertThat(net.status(1).leader()).isZero();
        assertThat(ticks).isLessThanOrEqualTo(20);
        assertThat(ticks).isGreaterThanOrEqualTo(10);
    }

    @Test
    void checkQuorum_aConnectedLeaderKeepsLeading() {
        var net = Network.founding(13, b -> b, 1, 2, 3);
        net.elect(1);
        net.crash(3); // one follower lost: still a quorum
        for (int i = 0; i < 100; i++) {
            net.tick(1);
            net.stabilize();
        }
        assertThat(net.status(1).role()).isEqualTo(Role.LEADER);
        assertThat(net.status(1).term()).isEqualTo(2);
    }

    @Test
    void checkQuorum_followersInTheLeaseIgnoreVoteRequests_thesis4_2_3() {
        // Without pre-vote, 3 (which stops hearing the leader) starts real elections at ever higher terms.
        var net = Network.founding(14, b -> b.preVote(false), 1, 2, 3);
        net.elect(1);
        net.cut(1, 3);
        for (int i = 0; i < 60; i++) {
            net.tick(1);
            net.tick(2);
            net.tick(3);
            net.stabilize();
        }
        assertThat(net.status(3).term()).isGreaterThan(2);
        assertThat(net.leader()).isEqualTo(1);
        assertThat(net.status(1).term()).isEqualTo(2);
        assertThat(net.status(2).term()).isEqualTo(2);
        assertThat(net.sent(VoteResponse.class)).filteredOn(r -> r.from() != 3 && r.to() == 3 && r.term() > 2).isEmpty();
        assertThat(net.sent(VoteRequest.class)).filteredOn(v -> v.from() == 3).isNotEmpty();
    }

    @Test
    void checkQuorum_leadershipTransferBypassesTheLease_thesis3_10() {
        var net = Network.founding(15, b -> b, 1, 2, 3);
        net.elect(1);
        assertThat(net.transferLeadership(1, 2).isAccepted()).isTrue();
        net.stabilize();
        assertThat(net.leader()).isEqualTo(2);
        assertThat(net.status(2).term()).isEqualTo(3);
        assertThat(net.sent(RaftMessage.TimeoutNow.class)).hasSize(1);
        assertThat(net.sent(VoteRequest.class)).filteredOn(v -> v.from() == 2).allMatch(VoteRequest::leadershipTransfer);
    }
}
