package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.ProposeResult.Reason;
import io.synod.consensus.ProposeResult.Rejected;
import io.synod.consensus.SoftState;
import io.synod.raft.testing.Network;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Typed rejections of {@link io.synod.consensus.ConsensusNode#propose} and friends: every refusal
 * names its reason (and the leader to forward to, when known), and nothing is appended to the log.
 */
class ProposeRejectionTest {

    private static Rejected rejected(ProposeResult r) {
        assertThat(r).isInstanceOf(Rejected.class);
        return (Rejected) r;
    }

    @Test
    void followerRejectsWithNotLeaderAndNamesTheLeader() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        long last = net.status(2).lastIndex();

        Rejected r = rejected(net.propose(2, "x"));
        assertThat(r.reason()).isEqualTo(Reason.NOT_LEADER);
        assertThat(r.leaderHint()).isEqualTo(1);
        assertThat(net.status(2).lastIndex()).isEqualTo(last);
        assertThat(rejected(net.proposeConfChange(2, ConfChange.of(ConfChange.Type.REMOVE, 3))).reason()).isEqualTo(Reason.NOT_LEADER);
        assertThat(rejected(net.transferLeadership(2, 3)).reason()).isEqualTo(Reason.NOT_LEADER);
    }

    @Test
    void withoutALeaderTheRejectionIsNoLeader() {
        var net = Network.founding(1, 2, 3);
        Rejected r = rejected(net.propose(1, "x"));
        assertThat(r.reason()).isEqualTo(Reason.NO_LEADER);
        assertThat(r.leaderHint()).isEqualTo(SoftState.NO_LEADER);
        assertThat(rejected(net.readIndex(2, "r")).reason()).isEqualTo(Reason.NO_LEADER);
    }

    @Test
    void proposalAboveProposalBytesMaxIsTooLarge() {
        var net = Network.founding(7, b -> b.proposalBytesMax(16), 1, 2, 3);
        net.elect(1);
        long last = net.status(1).lastIndex();
        assertThat(rejected(net.propose(1, "x".repeat(17))).reason()).isEqualTo(Reason.TOO_LARGE);
        assertThat(net.status(1).lastIndex()).isEqualTo(last);
        assertThat(net.propose(1, "x".repeat(16)).isAccepted()).isTrue();
    }

    @Test
    void uncommittedBytesAboveTheLimitAreOverloadedUntilTheyCommit() {
        var net = Network.founding(7, b -> b.uncommittedBytesMax(300), 1, 2, 3);
        net.elect(1);
        net.isolate(2);
        net.isolate(3);
        int accepted = 0;
        ProposeResult last = null;
        for (int i = 0; i < 10; i++) {
            last = net.propose(1, "y".repeat(100));
            if (!last.isAccepted()) break;
            accepted++;
        }
        assertThat(accepted).isBetween(1, 3);
        Rejected r = rejected(last);
        assertThat(r.reason()).isEqualTo(Reason.OVERLOADED);
        assertThat(r.leaderHint()).isEqualTo(1);

        // Once the backlog commits, the leader accepts proposals again.
        net.heal();
        net.heartbeat(1);
        assertThat(net.member(2).state).hasSize(accepted);
        assertThat(net.propose(1, "y".repeat(100)).isAccepted()).isTrue();
    }

    @Test
    void proposalsDuringALeadershipTransferAreRefusedWithTransferring() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        net.isolate(3); // lagging transferee: the transfer cannot complete right away
        net.propose(1, "behind");
        net.stabilize();
        assertThat(net.transferLeadership(1, 3).isAccepted()).isTrue();

        assertThat(rejected(net.propose(1, "x")).reason()).isEqualTo(Reason.TRANSFERRING);
        assertThat(rejected(net.proposeConfChange(1, ConfChange.of(ConfChange.Type.ADD_LEARNER, 4))).reason())
                .isEqualTo(Reason.TRANSFERRING);
    }

    @Test
    void secondConfChangeWhileOneIsPendingIsRefused() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        assertThat(net.proposeConfChange(1, ConfChange.of(ConfChange.Type.ADD_LEARNER, 4)).isAccepted()).isTrue();
        Rejected r = rejected(net.proposeConfChange(1, ConfChange.of(ConfChange.Type.ADD_LEARNER, 5)));
        assertThat(r.reason()).isEqualTo(Reason.CONF_CHANGE_PENDING);
    }

    @Test
    void removingEveryVoterIsAnInvalidConfChange() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        var all = new ConfChange(List.of(
                new ConfChange.Change(ConfChange.Type.REMOVE, 1),
                new ConfChange.Change(ConfChange.Type.REMOVE, 2),
                new ConfChange.Change(ConfChange.Type.REMOVE, 3)), false);
        assertThat(rejected(net.proposeConfChange(1, all)).reason()).isEqualTo(Reason.INVALID_CONF_CHANGE);
        // Leaving a joint configuration that was never entered is invalid too.
        assertThat(rejected(net.proposeConfChange(1, ConfChange.LEAVE_JOINT)).reason()).isEqualTo(Reason.INVALID_CONF_CHANGE);
        // Neither rejection left a pending change behind.
        assertThat(net.proposeConfChange(1, ConfChange.of(ConfChange.Type.REMOVE, 3)).isAccepted()).isTrue();
    }

    @Test
    void aRemovedMemberRejectsWithRemoved() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        assertThat(net.proposeConfChange(1, ConfChange.of(ConfChange.Type.REMOVE, 3)).isAccepted()).isTrue();
        net.stabilize();
        net.heartbeat(1);
        assertThat(net.status(1).confState().voters()).containsExactly(1L, 2L);
        assertThat(net.status(3).confState().allMembers()).doesNotContain(3L);

        Rejected r = rejected(net.propose(3, "x"));
        assertThat(r.reason()).isEqualTo(Reason.REMOVED);
        assertThat(rejected(net.readIndex(3, "r")).reason()).isEqualTo(Reason.REMOVED);
    }

    @Test
    void transferToALearnerOrAStrangerIsUnknownMember() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        net.addJoiner(4);
        net.proposeConfChange(1, ConfChange.of(ConfChange.Type.ADD_LEARNER, 4));
        net.stabilize();
        net.heartbeat(1);
        assertThat(net.status(1).confState().learners()).containsExactly(4L);

        Rejected r = rejected(net.transferLeadership(1, 4));
        assertThat(r.reason()).isEqualTo(Reason.UNKNOWN_MEMBER);
        assertThat(r.leaderHint()).isEqualTo(1);
        assertThat(rejected(net.transferLeadership(1, 9)).reason()).isEqualTo(Reason.UNKNOWN_MEMBER);
        assertThat(net.propose(1, "still leading").isAccepted()).isTrue();
    }
}
