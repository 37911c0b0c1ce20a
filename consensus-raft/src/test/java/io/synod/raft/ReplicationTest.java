package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Entry;
import io.synod.raft.RaftMessage.AppendRequest;
import io.synod.raft.RaftMessage.AppendResponse;
import io.synod.raft.testing.Network;
import org.junit.jupiter.api.Test;

/**
 * Log replication (Raft §5.3): a lagging follower is found by probing and catches up; a follower
 * with a long conflicting tail from an old term is repaired in a few round trips thanks to the
 * (hintIndex, hintTerm) conflict hint (§5.3, "optimization" paragraph); pipelining stays within
 * inflightAppendsMax and batching within appendEntriesMax / appendBytesMax.
 */
class ReplicationTest {

    @Test
    void aCommitReachesCaughtUpFollowersAsANoticeThatNeedsNoAnswer() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        net.stabilize();
        net.clearSent();
        net.propose(1, "x");
        net.stabilize();

        assertThat(net.member(2).state).containsExactly("x");
        assertThat(net.member(3).state).containsExactly("x");
        assertThat(net.sent(RaftMessage.CommitNotice.class)).extracting(RaftMessage.CommitNotice::to).containsExactlyInAnyOrder(2L, 3L);
        assertThat(net.sent(AppendRequest.class)).as("no empty append carries the commit").allMatch(a -> !a.entries().isEmpty());
        // One answer per follower: to the append with the entry, none to the notice.
        assertThat(net.sent(AppendResponse.class)).extracting(AppendResponse::from).containsExactlyInAnyOrder(2L, 3L);
    }

    @Test
    void aNoticeCommitsOnlyWhereTheFollowersLogMatches() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        net.stabilize();
        net.drop(m -> m instanceof RaftMessage.CommitNotice && m.to() == 2);
        net.propose(1, "y");
        net.stabilize();
        long last = net.status(2).lastIndex();
        long committed = net.status(2).commitIndex();
        long term = net.status(1).term();
        assertThat(committed).as("follower 2 holds the entry but never heard it committed").isLessThan(last);

        net.node(2).step(new RaftMessage.CommitNotice(1, 2, term, last, term + 5, last));
        assertThat(net.status(2).commitIndex()).as("a notice naming a term 2 does not hold there").isEqualTo(committed);

        net.node(2).step(new RaftMessage.CommitNotice(1, 2, term, last, term, last));
        assertThat(net.status(2).commitIndex()).isEqualTo(last);
    }

    @Test
    void laggingFollowerCatchesUpAfterHealing() {
        var net = Network.founding(1, 2, 3);
        net.elect(1);
        net.isolate(3);
        for (int i = 0; i < 30; i++) net.propose(1, "e" + i);
        net.stabilize();
        assertThat(net.member(3).state).isEmpty();

        net.heal();
        net.heartbeat(1);
        assertThat(net.member(3).state).isEqualTo(net.member(1).state).hasSize(30);
        assertThat(net.status(3).lastIndex()).isEqualTo(net.status(1).lastIndex());
    }

    @Test
    void conflictingTailFromAnOldTermIsRepairedInFewRoundTrips_section5_3() {
        var net = Network.founding(21, b -> b, 1, 2, 3);
        net.elect(1); // term 2, no-op at 2
        // 1 is cut off and keeps accepting proposals that can never commit: a long tail of term 2.
        net.isolate(1);
        for (int i = 0; i < 100; i++) net.propose(1, "lost" + i);
        net.drainQueue();
        assertThat(net.status(1).lastIndex()).isEqualTo(102);
        // 2 and 3 elect 2 (term 3) and commit a few entries there.
        net.tickAll(30);
        long lead = net.leader();
        assertThat(lead).isIn(2L, 3L);
        for (int i = 0; i < 5; i++) net.propose(lead, "kept" + i);
        net.stabilize();

        net.heal();
        net.clearSent();
        net.heartbeat(lead);
        net.heartbeat(lead);

        assertThat(net.member(1).state).containsExactly("kept0", "kept1", "kept2", "kept3", "kept4");
        assertThat(net.status(1).lastIndex()).isEqualTo(net.status(lead).lastIndex());
        long rejections = net.sent(AppendResponse.class).stream().filter(r -> r.from() == 1 && r.rejected()).count();
        long appendsTo1 = net.sent(AppendRequest.class).stream().filter(a -> a.to() == 1).count();
        // One rejection is enough to skip the whole term-2 tail (not one per entry: 100).
        assertThat(rejections).isLessThanOrEqualTo(2);
        assertThat(appendsTo1).isLessThanOrEqualTo(6);
    }

    @Test
    void followerBehindByManyEntriesIsProbedBackInFewRoundTrips() {
        var net = Network.founding(22, b -> b, 1, 2, 3);
        net.elect(1);
        net.crash(3);
        for (int i = 0; i < 200; i++) net.propose(1, "e" + i);
        net.stabilize();
        net.restart(3);
        net.clearSent();
        net.heartbeat(1);
        net.heartbeat(1);
        assertThat(net.member(3).state).hasSize(200);
        long rejections = net.sent(AppendResponse.class).stream().filter(r -> r.from() == 3 && r.rejected()).count();
        assertThat(rejections).isLessThanOrEqualTo(1);
    }

    @Test
    void pipeliningStaysWithinInflightAppendsMax() {
        var net = Network.founding(23, b -> b.inflightAppendsMax(3).appendEntriesMax(1), 1, 2, 3);
        net.elect(1);
        net.clearSent();
        for (int i = 0; i < 10; i++) net.propose(1, "p" + i); // no delivery: nothing is acknowledged
        long toTwo = net.sent(AppendRequest.class).stream().filter(a -> a.to() == 2 && !a.entries().isEmpty()).count();
        assertThat(toTwo).isEqualTo(3);

        net.stabilize();
        net.heartbeat(1);
        for (long id : net.ids()) assertThat(net.member(id).state).as("state of %d", id).hasSize(10);
        for (AppendRequest a : net.sent(AppendRequest.class)) assertThat(a.entries()).hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void batchingRespectsAppendEntriesMaxAndAppendBytesMax() {
        String payload = "z".repeat(100); // 124 bytes per entry with the header
        var net = Network.founding(24, b -> b.appendEntriesMax(3).appendBytesMax(300), 1, 2, 3);
        net.elect(1);
        net.isolate(3);
        for (int i = 0; i < 20; i++) net.propose(1, payload);
        net.stabilize();
        net.heal();
        net.clearSent();
        net.heartbeat(1);
        net.heartbeat(1);
        assertThat(net.member(3).state).hasSize(20);

        var appends = net.sent(AppendRequest.class);
        assertThat(appends).filteredOn(a -> a.to() == 3 && !a.entries().isEmpty()).hasSizeGreaterThanOrEqualTo(10);
        for (AppendRequest a : appends) {
            assertThat(a.entries()).hasSizeLessThanOrEqualTo(3);
            long bytes = a.entries().stream().mapToLong(Entry::sizeBytes).sum();
            if (a.entries().size() > 1) assertThat(bytes).as("bytes of %s", a).isLessThanOrEqualTo(300);
        }
    }

    @Test
    void aDelayedShortAppendDoesNotTruncateNewerEntries() {
        var net = Network.founding(25, b -> b, 1, 2, 3);
        net.elect(1);
        net.propose(1, "a");
        AppendRequest first = net.queued().stream().filter(m -> m instanceof AppendRequest a && a.to() == 2)
                .map(AppendRequest.class::cast).findFirst().orElseThrow();
        net.stabilize();
        net.propose(1, "b");
        net.stabilize();
        long last = net.status(2).lastIndex();
        net.deliver(first); // a duplicate of an old append arrives late
        assertThat(net.status(2).lastIndex()).isEqualTo(last);
        net.heartbeat(1);
        assertThat(net.member(2).state).containsExactly("a", "b");
    }
}
