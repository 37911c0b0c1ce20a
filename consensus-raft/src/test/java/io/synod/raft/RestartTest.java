package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Role;
import io.synod.raft.RaftMessage.VoteRequest;
import io.synod.raft.RaftMessage.VoteResponse;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Durability across restarts (Raft §5.1, Figure 2 "persistent state"): a member restarted from its
 * storage keeps its current term and the vote it cast in it, so it never votes twice in one term;
 * its log and commit survive, and the state machine is rebuilt by re-applying the log.
 */
class RestartTest {

    @Test
    void restartedMemberKeepsTermAndVoteAndDoesNotVoteTwice_section5_1() {
        var net = Network.founding(81, b -> b.checkQuorum(false), 1, 2, 3);
        net.elect(1);
        assertThat(net.status(2).vote()).isEqualTo(1);
        net.crash(2);
        net.restart(2);
        assertThat(net.status(2).term()).isEqualTo(2);
        assertThat(net.status(2).vote()).isEqualTo(1);
        assertThat(net.status(2).role()).isEqualTo(Role.FOLLOWER);

        // A candidate asking for a vote in the same term (with a log at least as long) is refused.
        net.clearSent();
        long last = net.status(3).lastIndex();
        net.deliver(new VoteRequest(3, 2, 2, false, last + 10, 2, false));
        var answers = net.sent(VoteResponse.class);
        assertThat(answers).hasSize(1);
        assertThat(answers.get(0).granted()).isFalse();
        assertThat(net.status(2).vote()).isEqualTo(1);
    }

    @Test
    void voteIsDurableBeforeTheResponseLeaves() {
        var net = Network.founding(82, b -> b, 1, 2, 3);
        net.tick(2); // warm up (nothing happens)
        // Let 1 campaign, but stop right after 2 handled the vote request.
        for (int i = 0; i < 100 && net.status(1).role() == Role.FOLLOWER; i++) net.tick(1);
        while (net.status(2).vote() != 1 && net.deliverOne()) { }
        assertThat(net.status(2).vote()).isEqualTo(1);
        assertThat(net.member(2).storage.hardState().vote()).as("persisted with the Ready that carried the grant").isEqualTo(1);
        assertThat(net.member(2).storage.hardState().term()).isEqualTo(net.status(1).term());
    }

    @Test
    void restartedMemberReappliesItsCommittedLog() {
        var net = Network.founding(83, b -> b, 1, 2, 3);
        net.elect(1);
        for (int i = 0; i < 5; i++) net.propose(1, "r" + i);
        net.stabilize();
        net.heartbeat(1);
        var before = net.member(3).state;
        net.crash(3);
        net.restart(3);
        assertThat(net.member(3).state).as("re-applied from storage before hearing from anyone").isEqualTo(before);
        assertThat(net.status(3).commitIndex()).isEqualTo(net.status(1).commitIndex());
    }

    @Test
    void restartedLeaderComesBackAsFollowerOfTheSameTermAndLogs() {
        var net = Network.founding(84, b -> b, 1, 2, 3);
        net.elect(1);
        net.propose(1, "a");
        net.stabilize();
        long last = net.status(1).lastIndex();
        net.crash(1);
        net.restart(1);
        assertThat(net.status(1).role()).isEqualTo(Role.FOLLOWER);
        assertThat(net.status(1).term()).isEqualTo(2);
        assertThat(net.status(1).lastIndex()).isEqualTo(last);
        net.tickAll(60);
        long lead = net.leader();
        assertThat(lead).isNotZero();
        net.propose(lead, "b");
        net.stabilize();
        net.heartbeat(lead);
        for (long id : net.ids()) assertThat(net.member(id).state).as("state of %d", id).containsExactly("a", "b");
    }

    @Test
    void wholeClusterRestartKeepsCommittedData() {
        var net = Network.founding(85, b -> b, 1, 2, 3);
        net.elect(1);
        for (int i = 0; i < 3; i++) net.propose(1, "d" + i);
        net.stabilize();
        for (long id : net.ids()) net.crash(id);
        net.drainQueue();
        for (long id : net.ids()) net.restart(id);
        net.tickAll(60);
        long lead = net.leader();
        assertThat(lead).isNotZero();
        net.propose(lead, "d3");
        net.stabilize();
        net.heartbeat(lead);
        for (long id : net.ids()) assertThat(net.member(id).state).containsExactly("d0", "d1", "d2", "d3");
    }
}
