package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.Entry;
import io.synod.consensus.Ready;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A follower whose Ready is still being written when a new leader's append replaces that Ready's
 * tail (steps may run between {@code ready()} and {@code advance()}). Found by the simulator
 * (seed 1657 once commit notices changed its schedule): the entries before the replacement were
 * written, yet stayed unstable, so the next Ready wrote them again, below the snapshot the
 * application had taken in between.
 */
class PersistWhileReplacedTest {
    private static Entry e(long term, long index) {
        return Entry.normal(term, index, new byte[] {(byte) index});
    }

    @Test
    void entriesBeforeAReplacedTailAreStableOnceTheirReadyIsPersisted() {
        var storage = RaftBootstrap.foundingStorage(Set.of(1L, 2L, 3L));
        long t0 = RaftBootstrap.hardState().term();
        var node = new RaftNode(RaftConfig.builder(3).build(), storage, new SplittableRandom(3));

        // Leader 1 of term t0+1 sends entries 2..5.
        long t1 = t0 + 1;
        node.step(new RaftMessage.AppendRequest(1, 3, t1, 1, t0, List.of(e(t1, 2), e(t1, 3), e(t1, 4), e(t1, 5)), 1));
        Ready first = node.ready();
        assertThat(first.entries()).extracting(Entry::index).containsExactly(2L, 3L, 4L, 5L);
        storage.append(first.entries()); // written; advance() comes later

        // Meanwhile leader 2 of the next term keeps 2 and 3 (committed now) and replaces 4 and 5.
        long t2 = t1 + 1;
        node.step(new RaftMessage.AppendRequest(2, 3, t2, 1, t0, List.of(e(t1, 2), e(t1, 3), e(t2, 4)), 3));
        node.advance(first);

        Ready second = node.ready();
        assertThat(second.entries()).as("only the replacement is left to write").extracting(Entry::index).containsExactly(4L);
        storage.createSnapshot(3, node.status().confState(), new byte[0]); // what an application may do once 3 is applied
        storage.append(second.entries());
        node.advance(second);
        assertThat(node.status().lastIndex()).isEqualTo(4);
    }
}
