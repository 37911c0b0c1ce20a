package io.synod.raft;

import java.util.Arrays;
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.function.LongUnaryOperator;

/**
 * Quorum arithmetic for a possibly joint configuration (Raft §6): a decision needs a majority
 * of the incoming voters and, while joint, a majority of the outgoing voters too. An empty
 * half places no constraint.
 */
final class Quorum {
    enum VoteResult { PENDING, LOST, WON }

    private Quorum() {}

    /** The highest index acknowledged by a quorum, given each voter's acknowledged index. */
    static long committedIndex(Set<Long> incoming, Set<Long> outgoing, LongUnaryOperator acked) {
        return Math.min(majorityIndex(incoming, acked), majorityIndex(outgoing, acked));
    }

    private static long majorityIndex(Set<Long> voters, LongUnaryOperator acked) {
        if (voters.isEmpty()) return Long.MAX_VALUE;
        long[] idx = new long[voters.size()];
        int i = 0;
        for (long v : voters) idx[i++] = acked.applyAsLong(v);
        Arrays.sort(idx);
        // With n voters sorted ascending, the value at n - (n/2 + 1) is held by a majority.
        return idx[idx.length - (idx.length / 2 + 1)];
    }

    /** Tallies votes: {@code granted} and {@code rejected} say who answered which way. */
    static VoteResult voteResult(Set<Long> incoming, Set<Long> outgoing, LongPredicate granted, LongPredicate rejected) {
        VoteResult a = majorityVote(incoming, granted, rejected);
        VoteResult b = majorityVote(outgoing, granted, rejected);
        if (a == VoteResult.WON && b == VoteResult.WON) return VoteResult.WON;
        if (a == VoteResult.LOST || b == VoteResult.LOST) return VoteResult.LOST;
        return VoteResult.PENDING;
    }

    private static VoteResult majorityVote(Set<Long> voters, LongPredicate granted, LongPredicate rejected) {
        if (voters.isEmpty()) return VoteResult.WON;
        int yes = 0, no = 0;
        for (long v : voters) {
            if (granted.test(v)) yes++;
            else if (rejected.test(v)) no++;
        }
        int q = voters.size() / 2 + 1;
        if (yes >= q) return VoteResult.WON;
        if (voters.size() - no < q) return VoteResult.LOST;
        return VoteResult.PENDING;
    }
}
