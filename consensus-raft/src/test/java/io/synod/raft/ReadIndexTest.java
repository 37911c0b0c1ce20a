package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.ReadState;
import io.synod.consensus.Role;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.RaftMessage.HeartbeatResponse;
import io.synod.raft.RaftMessage.ReadIndexRequest;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Linearizable reads via ReadIndex (Raft thesis §6.4): the leader records its commit index, then
 * confirms with a heartbeat round that a quorum still follows it before answering; followers
 * forward to the leader; a new leader first commits an entry of its own term (§6.4 step 1); a
 * leader cut off from its quorum never answers, and the read is reported aborted when it steps down.
 */
class ReadIndexTest {

    private static String ctx(ReadState rs) {
        return new String(rs.requestContext());
    }

    @Test
    void leaderAnswersOnlyAfterAQuorumConfirmsItsLeadership_thesis6_4() {
        var net = Network.founding(41, b -> b, 1, 2, 3);
        net.elect(1);
        net.propose(1, "a");
        net.stabilize();
        long commit = net.status(1).commitIndex();

        net.drop(m -> m instanceof HeartbeatResponse);
        assertThat(net.readIndex(1, "r1").isAccepted()).isTrue();
        net.stabilize();
        assertThat(net.member(1).readStates).as("no heartbeat answer yet").isEmpty();

        net.heal();
        net.cut(3, 1); // 2's answer alone (with the leader itself) is a quorum
        net.heartbeat(1);
        assertThat(net.member(1).readStates).hasSize(1);
        ReadState rs = net.member(1).readStates.get(0);
        assertThat(ctx(rs)).isEqualTo("r1");
        assertThat(rs.index()).isEqualTo(commit);
    }

    @Test
    void singleVoterAnswersAtOnce() {
        var net = Network.founding(1);
        net.elect(1);
        net.readIndex(1, "solo");
        assertThat(net.member(1).readStates).extracting(ReadIndexTest::ctx).containsExactly("solo");
    }

    @Test
    void followerForwardsTheReadToTheLeaderAndGetsItsCommitIndex() {
        var net = Network.founding(42, b -> b, 1, 2, 3);
        net.elect(1);
        net.isolate(3);
        net.propose(1, "a");
        net.stabilize();
        net.heal();
        // 2 knows it has not applied the leader's commit index yet; the answer tells it how far to wait.
        long commit = net.status(1).commitIndex();
        assertThat(net.readIndex(2, "f1").isAccepted()).isTrue();
        assertThat(net.queued()).anyMatch(m -> m instanceof ReadIndexRequest r && r.to() == 1);
        net.stabilize();
        assertThat(net.member(2).readStates).hasSize(1);
        assertThat(net.member(2).readStates.get(0).index()).isEqualTo(commit);
        assertThat(ctx(net.member(2).readStates.get(0))).isEqualTo("f1");
        assertThat(net.member(1).readStates).as("the leader keeps no ReadState for a forwarded read").isEmpty();
    }

    @Test
    void newLeaderDefersReadsUntilItCommitsAnEntryOfItsTerm_thesis6_4() {
        var net = Network.founding(43, b -> b, 1, 2, 3);
        // Nothing the new leader appends may arrive: its no-op cannot commit.
        net.drop(m -> m instanceof AppendRequest a && !a.entries().isEmpty());
        net.campaign(1);
        assertThat(net.status(1).role()).isEqualTo(Role.LEADER);
        assertThat(net.status(1).commitIndex()).isEqualTo(1);

        net.readIndex(1, "early");
        for (int i = 0; i < 3; i++) net.heartbeat(1); // heartbeats are answered, yet the read must wait
        assertThat(net.member(1).readStates).isEmpty();

        net.heal();
        net.heartbeat(1);
        assertThat(net.status(1).commitIndex()).isEqualTo(2);
        assertThat(net.member(1).readStates).hasSize(1);
        assertThat(net.member(1).readStates.get(0).index()).isEqualTo(2);
    }

    @Test
    void isolatedLeaderNeverAnswersAndAbortsTheReadWhenItStepsDown() {
        var net = Network.founding(44, b -> b, 1, 2, 3);
        net.elect(1);
        net.isolate(1);
        assertThat(net.readIndex(1, "stale?").isAccepted()).isTrue();
        for (int i = 0; i < 30 && net.status(1).role() == Role.LEADER; i++) {
            net.tick(1);
            net.stabilize();
        }
        assertThat(net.status(1).role()).isNotEqualTo(Role.LEADER);
        assertThat(net.member(1).readStates).isEmpty();
        assertThat(net.member(1).readsAborted).containsExactly("stale?");

        // Meanwhile the majority elected someone else who may have committed writes.
        net.tickAll(40);
        assertThat(net.leader()).isIn(2L, 3L);
        net.heal();
        net.tickAll(5);
        assertThat(net.member(1).readStates).isEmpty();
    }

    @Test
    void deposedLeaderAbortsPendingReadsWhenItSeesAHigherTerm() {
        var net = Network.founding(45, b -> b, 1, 2, 3);
        net.elect(1);
        net.drop(m -> m instanceof HeartbeatResponse);
        net.readIndex(1, "pending");
        net.stabilize();
        net.heal();
        net.transferLeadership(1, 2);
        net.stabilize();
        assertThat(net.leader()).isEqualTo(2);
        assertThat(net.member(1).readsAborted).containsExactly("pending");
        assertThat(net.member(1).readStates).isEmpty();
    }
}
