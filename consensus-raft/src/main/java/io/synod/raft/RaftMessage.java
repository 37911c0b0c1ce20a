package io.synod.raft;

import io.synod.consensus.Entry;
import io.synod.consensus.Message;
import io.synod.consensus.Snapshot;
import java.util.List;

/**
 * The Raft protocol's messages, one record per kind, so that each handler is one case of an
 * exhaustive switch. Every message carries the sender's term: a higher term makes the receiver
 * follow; a lower one is answered (so a stale leader learns) or dropped.
 */
public sealed interface RaftMessage extends Message {
    long HEADER_BYTES = 48;

    @Override
    default long sizeBytes() {
        return HEADER_BYTES;
    }

    /** Only appends that carry entries, and snapshots, add to a log; a vote or a new term writes only the small hard state. */
    @Override
    default boolean appendsEntries() {
        return false;
    }

    /** A request for a vote. {@code preVote}: would you vote if I started an election at {@code term}? (Raft thesis §9.6) */
    record VoteRequest(long from, long to, long term, boolean preVote, long lastLogIndex, long lastLogTerm, boolean leadershipTransfer)
            implements RaftMessage {}

    /**
     * A vote (or pre-vote) answer. It also carries the voter's commit point (index and the term of
     * that entry): a candidate holding that same entry may adopt it as committed. Without this, a
     * member stuck in a joint configuration whose commit it never learned could need the vote of a
     * member that was already removed (and so never campaigns) but refuses it for a longer log.
     */
    record VoteResponse(long from, long to, long term, boolean preVote, boolean granted, long commitIndex, long commitTerm)
            implements RaftMessage {}

    /** Log replication; an empty {@code entries} list is a probe or a commit-index update. */
    record AppendRequest(long from, long to, long term, long prevLogIndex, long prevLogTerm, List<Entry> entries, long leaderCommit)
            implements RaftMessage {
        @Override
        public long sizeBytes() {
            long s = HEADER_BYTES;
            for (Entry e : entries) s += e.sizeBytes();
            return s;
        }

        @Override
        public boolean appendsEntries() {
            return !entries.isEmpty();
        }

        @Override
        public long traceIndex() {
            return entries.isEmpty() ? -1 : entries.get(entries.size() - 1).index();
        }
    }

    /**
     * The answer to an append or a snapshot. Accepted: {@code index} is the follower's last index
     * matching the leader. Rejected: {@code index} is the rejected prevLogIndex and
     * (hintIndex, hintTerm) is the follower's last entry that could match, so the leader can
     * skip a whole term of conflicting entries in one round trip.
     */
    record AppendResponse(long from, long to, long term, boolean rejected, long index, long hintIndex, long hintTerm)
            implements RaftMessage {
        @Override
        public long traceIndex() {
            return rejected ? -1 : index;
        }
    }

    /**
     * A heartbeat carries the commit index the follower may safely adopt (at most its match) and
     * the leader's latest ReadIndex sequence number, which the response echoes to confirm leadership.
     */
    record HeartbeatRequest(long from, long to, long term, long commit, long readSeq) implements RaftMessage {}

    record HeartbeatResponse(long from, long to, long term, long readSeq) implements RaftMessage {}

    /**
     * The leader's new commit index for a follower that holds every entry the leader has: an
     * empty append without an answer. After a write commits, the leader tells the followers, but
     * an empty append's answer would repeat what the follower just acknowledged, and at one client
     * those answers were a third of the messages a write cost. The follower adopts
     * {@code min(commit, index)} if its log holds ({@code index}, {@code logTerm}), and otherwise
     * ignores the notice: the next append or heartbeat carries the commit index again.
     */
    record CommitNotice(long from, long to, long term, long index, long logTerm, long commit) implements RaftMessage {}

    record SnapshotRequest(long from, long to, long term, Snapshot snapshot) implements RaftMessage {
        @Override
        public long sizeBytes() {
            return HEADER_BYTES + snapshot.data().length;
        }

        @Override
        public boolean appendsEntries() {
            return true;
        }
    }

    /** Leadership transfer: start an election now, bypassing pre-vote and leader leases (Raft thesis §3.10). */
    record TimeoutNow(long from, long to, long term) implements RaftMessage {}

    /** A follower forwards a linearizable read to the leader. */
    record ReadIndexRequest(long from, long to, long term, byte[] context) implements RaftMessage {}

    record ReadIndexResponse(long from, long to, long term, long index, byte[] context) implements RaftMessage {}
}
