package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Entry;
import io.synod.consensus.HardState;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Role;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.testing.Network;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Raft §5.4.2 (Figure 8): a leader never commits an entry of an earlier term by counting
 * replicas; such an entry becomes committed only indirectly, once an entry of the leader's own
 * term is replicated on a majority.
 */
class CommitRuleTest {

    @Test
    void entryOfAnEarlierTermIsNotCommittedByCountingReplicas_section5_4_2() {
        // 1 holds an entry of term 2 at index 2 that no one else has (its leader of term 2 crashed
        // before replicating it). Everyone has since moved to term 3 without electing a leader.
        var net = new Network(31, b -> b.appendEntriesMax(1));
        Set<Long> voters = Set.of(1L, 2L, 3L);
        MemoryLogStorage s1 = RaftBootstrap.foundingStorage(voters);
        s1.append(List.of(Entry.normal(2, 2, Network.bytes("old"))));
        s1.setHardState(new HardState(3, HardState.NO_VOTE, 1));
        net.add(1, s1);
        for (long id : List.of(2L, 3L)) {
            MemoryLogStorage s = RaftBootstrap.foundingStorage(voters);
            s.setHardState(new HardState(3, HardState.NO_VOTE, 1));
            net.add(id, s);
        }
        // No append delivering an entry of the new term (4) gets through: only the old entry can spread.
        holdBackEntriesOfCurrentTerm(net, 1);
        net.campaign(1);
        assertThat(net.status(1).role()).isEqualTo(Role.LEADER);
        assertThat(net.status(1).term()).isEqualTo(4);
        for (int i = 0; i < 3; i++) {
            net.tick(1);
            net.stabilize();
        }

        // The term-2 entry is on all three members, yet nobody may consider it committed.
        for (long id : net.ids()) {
            assertThat(net.node(id).logTerm(2)).as("term at 2 on %d", id).isEqualTo(2);
            assertThat(net.status(id).commitIndex()).as("commit on %d", id).isEqualTo(1);
            assertThat(net.member(id).state).isEmpty();
        }

        // Once the leader's no-op of term 4 reaches a majority, both commit together.
        net.heal();
        net.heartbeat(1);
        net.heartbeat(1);
        for (long id : net.ids()) {
            assertThat(net.status(id).commitIndex()).as("commit on %d", id).isEqualTo(3);
            assertThat(net.member(id).state).containsExactly("old");
            assertThat(net.node(id).logTerm(3)).isEqualTo(4);
        }
    }

    /**
     * Drops appends from {@code leader} that would deliver an entry of its current term (those whose
     * prev entry matches at the receiver); probes that will be rejected still get through.
     */
    private static void holdBackEntriesOfCurrentTerm(Network net, long leader) {
        net.drop(m -> m instanceof AppendRequest a && a.from() == leader
                && a.entries().stream().anyMatch(e -> e.term() == net.status(leader).term())
                && net.node(a.to()).logTerm(a.prevLogIndex()) == a.prevLogTerm());
    }

    private static void tickUntilLeader(Network net, long id) {
        for (int i = 0; i < 200 && net.status(id).role() != Role.LEADER; i++) {
            net.tick(id);
            net.stabilize();
        }
        assertThat(net.status(id).role()).as("role of %d", id).isEqualTo(Role.LEADER);
    }

    @Test
    void figure8_anOldTermEntryOnAMajorityIsStillNotCommittedAndCanBeOverwritten_section5_4_2() {
        // Check-quorum off so that members grant (pre-)votes without a lease, as in the paper; one entry
        // per append so that an old entry can travel without the new leader's no-op.
        var net = Network.founding(32, b -> b.checkQuorum(false).appendEntriesMax(1), 1, 2, 3, 4, 5);
        net.elect(1); // (a) 1 leads term 2; everyone holds [bootstrap, no-op@2]
        net.partition(Set.of(1L, 2L));
        net.propose(1, "from-term-2"); // index 3, term 2, reaches only 2
        net.stabilize();
        assertThat(net.node(2).logTerm(3)).isEqualTo(2);

        // (b) 1 fails; 5 wins term 3 with votes of 3 and 4 and appends at index 3 and 4 locally only.
        net.crash(1);
        net.heal();
        net.isolate(2);
        net.drop(m -> m instanceof AppendRequest && m.from() == 5);
        tickUntilLeader(net, 5);
        long term5 = net.status(5).term();
        net.propose(5, "from-5");
        net.drainQueue();
        assertThat(net.node(5).logTerm(3)).isEqualTo(term5);
        net.crash(5);
        net.heal();

        // (c) 1 returns, wins a later term and spreads its term-2 entry to a majority (1, 2, 3, 4);
        // its own no-op never arrives. Counting replicas must not commit index 3.
        net.restart(1);
        holdBackEntriesOfCurrentTerm(net, 1);
        tickUntilLeader(net, 1);
        long t1 = net.status(1).term();
        assertThat(t1).isGreaterThan(term5);
        for (int i = 0; i < 5; i++) {
            net.tick(1);
            net.stabilize();
        }
        for (long id : List.of(1L, 2L, 3L, 4L)) {
            assertThat(net.node(id).logTerm(3)).as("term at 3 on %d", id).isEqualTo(2);
            assertThat(net.status(id).commitIndex()).as("commit on %d", id).isLessThan(3);
            assertThat(net.member(id).state).isEmpty();
        }

        // (d) 1 fails again; 5 (last term 3 beats last term 2) wins and overwrites index 3 everywhere.
        net.crash(1);
        net.heal();
        net.restart(5);
        tickUntilLeader(net, 5);
        net.heartbeat(5);
        net.heartbeat(5);
        for (long id : List.of(2L, 3L, 4L, 5L)) {
            assertThat(net.node(id).logTerm(3)).as("term at 3 on %d", id).isEqualTo(term5);
            assertThat(net.member(id).state).as("state of %d", id).containsExactly("from-5");
        }
    }
}
