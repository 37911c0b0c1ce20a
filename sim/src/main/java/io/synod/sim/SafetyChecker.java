package io.synod.sim;

import io.synod.consensus.Entry;
import io.synod.consensus.HardState;
import io.synod.raft.RaftNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Raft's safety properties, checked continuously while a simulated cluster runs (Raft §5.2–5.4):
 * election safety (one leader per term), log matching, leader completeness, state machine
 * safety (every member applies the same entry at an index) and monotonic commit within a
 * member's lifetime. Any failure throws {@link SimViolation} naming the nodes and indexes.
 */
final class SafetyChecker {
    private record Applied(long term, int dataHash) {}

    private final Map<Long, Long> leaderOfTerm = new HashMap<>();
    /** Every entry any member has applied: the committed prefix of the one true log. */
    private final Map<Long, Applied> appliedAt = new HashMap<>();
    private long maxApplied;

    void onLeader(long term, long node) {
        Long prev = leaderOfTerm.putIfAbsent(term, node);
        if (prev != null && prev != node) {
            throw new SimViolation("election safety: nodes " + prev + " and " + node + " both led term " + term);
        }
    }

    /** Where each committed entry sits: its own term and the term of the leader that committed it. */
    private record Committed(long entryTerm, long inTerm) {}

    private final Map<Long, Committed> committedAt = new HashMap<>();
    private long maxCommitted;

    /** A leader of {@code term} reports commit index {@code commit}: record what it committed, and when. */
    void onLeaderCommit(RaftNode leader, long term, long commit) {
        for (long i = Math.max(maxCommitted + 1, leader.logFirstIndex()); i <= commit; i++) {
            committedAt.putIfAbsent(i, new Committed(leader.logTerm(i), term));
        }
        maxCommitted = Math.max(maxCommitted, commit);
    }

    /**
     * Leader completeness (Raft §5.4): an entry committed in term U is in the log of every leader of a
     * term T > U. A leader of an older term may legitimately be elected late (its votes were delayed),
     * so entries committed in terms >= T are not required of it.
     */
    void checkLeaderCompleteness(RaftNode leader) {
        long term = leader.status().term();
        for (long i = Math.max(leader.logFirstIndex(), 1); i <= maxCommitted; i++) {
            Committed c = committedAt.get(i);
            if (c == null || c.inTerm >= term) continue;
            long t = leader.logTerm(i);
            if (t != c.entryTerm) {
                throw new SimViolation("leader completeness: leader " + leader.id() + " (term " + term + ") has term " + t
                        + " at index " + i + " but an entry of term " + c.entryTerm + " was committed there in term " + c.inTerm);
            }
        }
    }

    void onApply(long node, Entry e) {
        var a = new Applied(e.term(), Arrays.hashCode(e.data()));
        Applied prev = appliedAt.putIfAbsent(e.index(), a);
        if (prev != null && !prev.equals(a)) {
            throw new SimViolation("state machine safety: node " + node + " applied term " + e.term() + " at index " + e.index()
                    + " but term " + prev.term + " was applied there before (data hash " + prev.dataHash + " vs " + a.dataHash + ")");
        }
        maxApplied = Math.max(maxApplied, e.index());
    }

    long maxApplied() {
        return maxApplied;
    }

    static void checkCommitMonotonic(long node, HardState prev, HardState next) {
        if (!next.isEmpty() && next.commit() < prev.commit()) {
            throw new SimViolation("monotonic commit: node " + node + " commit went from " + prev.commit() + " to " + next.commit());
        }
        if (!next.isEmpty() && next.term() < prev.term()) {
            throw new SimViolation("monotonic term: node " + node + " term went from " + prev.term() + " to " + next.term());
        }
    }

    /** Log matching: if two logs agree on (index, term), they agree on every earlier entry's term. */
    static void checkLogMatching(RaftNode a, RaftNode b) {
        long lo = Math.max(a.logFirstIndex(), b.logFirstIndex());
        long hi = Math.min(a.status().lastIndex(), b.status().lastIndex());
        long lastAgree = -1;
        for (long i = hi; i >= lo; i--) {
            if (a.logTerm(i) == b.logTerm(i) && a.logTerm(i) != 0) {
                lastAgree = i;
                break;
            }
        }
        for (long i = lastAgree - 1; i >= lo && lastAgree > 0; i--) {
            if (a.logTerm(i) != b.logTerm(i)) {
                throw new SimViolation("log matching: nodes " + a.id() + " and " + b.id() + " agree at index " + lastAgree
                        + " (term " + a.logTerm(lastAgree) + ") but differ at " + i + " (terms " + a.logTerm(i) + " vs " + b.logTerm(i) + ")");
            }
        }
    }
}
