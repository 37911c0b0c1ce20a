package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.Role;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Leader election (Raft §5.2): a single member elects itself, a three-member group elects the
 * member that times out first, a new leader appends a no-op of its term (§8), and proposals then
 * commit and apply on every member in the same order (§5.3, State Machine Safety).
 */
class ElectionTest {

    @Test
    void singleMemberElectsItselfAndCommitsAlone() {
        var net = Network.founding(1);
        net.elect(1);

        assertThat(net.status(1).role()).isEqualTo(Role.LEADER);
        assertThat(net.status(1).term()).isEqualTo(2); // bootstrap is term 1
        assertThat(net.propose(1, "a").isAccepted()).isTrue();
        net.stabilize();
        assertThat(net.member(1).state).containsExactly("a");
        assertThat(net.status(1).commitIndex()).isEqualTo(3); // bootstrap, no-op, "a"
    }

    @Test
    void threeMembersElectTheOneThatTimesOutFirst_section5_2() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);

        assertThat(net.leader()).isEqualTo(1);
        for (long id : net.ids()) {
            assertThat(net.status(id).term()).as("term of %d", id).isEqualTo(2);
            assertThat(net.status(id).leader()).as("leader seen by %d", id).isEqualTo(1);
        }
        assertThat(net.status(2).vote()).isEqualTo(1);
        assertThat(net.status(3).vote()).isEqualTo(1);
        // With pre-vote the member first went through PRE_CANDIDATE, without touching its term.
        assertThat(net.member(1).roles).containsSubsequence(Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE, Role.LEADER);
    }

    @Test
    void newLeaderAppendsAndCommitsANoOpOfItsTerm_section8() {
        var net = Network.founding(1, 2, 3);
        net.campaign(1);
        // The leader commits its no-op as soon as one follower acknowledged it ...
        assertThat(net.status(1).commitIndex()).isEqualTo(2);
        // ... and followers learn that commit at the latest with the next heartbeat.
        net.heartbeat(1);

        for (long id : net.ids()) {
            var applied = net.member(id).appliedEntries;
            assertThat(applied).as("applied on %d", id).hasSize(2);
            Entry bootstrap = applied.get(0);
            Entry noop = applied.get(1);
            assertThat(bootstrap.type()).isEqualTo(EntryType.CONF_CHANGE);
            assertThat(noop.index()).isEqualTo(2);
            assertThat(noop.term()).isEqualTo(2);
            assertThat(noop.type()).isEqualTo(EntryType.NORMAL);
            assertThat(noop.data()).isEmpty();
        }
    }

    @Test
    void proposalsCommitAndApplyEverywhereInTheSameOrder_stateMachineSafety() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        for (int i = 0; i < 20; i++) {
            assertThat(net.propose(1, "v" + i).isAccepted()).isTrue();
            if (i % 3 == 0) net.stabilize(); // interleave commits with new proposals
        }
        net.stabilize();

        var expected = net.member(1).state;
        assertThat(expected).hasSize(20).startsWith("v0", "v1").endsWith("v19");
        for (long id : net.ids()) {
            assertThat(net.member(id).state).as("state of %d", id).isEqualTo(expected);
            assertThat(net.member(id).appliedEntries).as("applied entries of %d", id).isEqualTo(net.member(1).appliedEntries);
        }
    }

    @Test
    void acceptedProposalReportsTheTermAndIndexItWillCommitAt() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        var r = (io.synod.consensus.ProposeResult.Accepted) net.propose(1, "x");
        net.stabilize();
        Entry e = net.member(2).appliedEntries.get(net.member(2).appliedEntries.size() - 1);
        assertThat(e.index()).isEqualTo(r.index());
        assertThat(e.term()).isEqualTo(r.term());
        assertThat(new String(e.data())).isEqualTo("x");
    }

    @Test
    void aFailedLeaderIsReplacedByAMemberWithAllCommittedEntries_section5_4_1() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        net.propose(1, "a");
        net.stabilize();
        net.crash(1);
        net.tickAll(40);

        long lead = net.leader();
        assertThat(lead).isIn(2L, 3L);
        assertThat(net.status(lead).term()).isGreaterThan(2);
        assertThat(net.propose(lead, "b").isAccepted()).isTrue();
        net.stabilize();
        assertThat(net.member(2).state).containsExactly("a", "b");
        assertThat(net.member(3).state).containsExactly("a", "b");
    }
}
