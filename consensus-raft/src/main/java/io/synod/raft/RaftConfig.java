package io.synod.raft;

/**
 * Everything that tunes one Raft member, validated once at construction. Timeouts are in
 * ticks (the driver decides how long a tick is); sizes are in bytes of entry payload plus a
 * fixed per-entry header (see {@link io.synod.consensus.Entry#sizeBytes()}).
 *
 * @param electionTicks             base election timeout; the real one is drawn from [electionTicks, 2*electionTicks)
 * @param heartbeatTicks            leader heartbeat interval; must be well below electionTicks
 * @param preVote                   run a pre-vote round before a real election (a returning partitioned node cannot bump the term)
 * @param checkQuorum               a leader that has not heard from a quorum for an election timeout steps down, and followers
 *                                  that heard from a leader within the timeout ignore vote requests (leader lease)
 * @param leaseBasedReads           serve ReadIndex from the leader's lease without a heartbeat round; unsafe with unbounded
 *                                  clock drift, off by default
 * @param appendBytesMax            entries bytes per append message (batching bound)
 * @param appendEntriesMax          entries per append message
 * @param inflightAppendsMax        appends in flight to one follower in replicate state (pipelining window)
 * @param inflightBytesMax          bytes in flight to one follower (0: unbounded by bytes)
 * @param uncommittedBytesMax       bytes the leader accepts but has not committed; beyond it proposals get OVERLOADED
 * @param proposalBytesMax          largest single proposal
 * @param committedBytesPerReadyMax bytes of committed entries handed out in one Ready
 * @param pendingReadsMax           ReadIndex requests waiting at the leader
 */
public record RaftConfig(
        long id,
        int electionTicks,
        int heartbeatTicks,
        boolean preVote,
        boolean checkQuorum,
        boolean leaseBasedReads,
        long appendBytesMax,
        int appendEntriesMax,
        int inflightAppendsMax,
        long inflightBytesMax,
        long uncommittedBytesMax,
        long proposalBytesMax,
        long committedBytesPerReadyMax,
        int pendingReadsMax) {

    public RaftConfig {
        require(id > 0, "id must be > 0, got " + id);
        require(heartbeatTicks >= 1, "heartbeatTicks must be >= 1, got " + heartbeatTicks);
        require(electionTicks > heartbeatTicks, "electionTicks (" + electionTicks + ") must exceed heartbeatTicks (" + heartbeatTicks + ")");
        require(!leaseBasedReads || checkQuorum, "leaseBasedReads requires checkQuorum (the lease is the check-quorum interval)");
        require(appendBytesMax >= 1 && appendEntriesMax >= 1, "append limits must be >= 1");
        require(inflightAppendsMax >= 1, "inflightAppendsMax must be >= 1, got " + inflightAppendsMax);
        require(inflightBytesMax >= 0, "inflightBytesMax must be >= 0");
        require(uncommittedBytesMax >= 1 && proposalBytesMax >= 1 && committedBytesPerReadyMax >= 1, "byte limits must be >= 1");
        require(pendingReadsMax >= 1, "pendingReadsMax must be >= 1");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("RaftConfig: " + message);
    }

    public static Builder builder(long id) {
        return new Builder(id);
    }

    /** Defaults match etcd's spirit: 10-tick elections, 1-tick heartbeats, pre-vote and check-quorum on. */
    public static final class Builder {
        private final long id;
        private int electionTicks = 10;
        private int heartbeatTicks = 1;
        private boolean preVote = true;
        private boolean checkQuorum = true;
        private boolean leaseBasedReads = false;
        private long appendBytesMax = 1 << 20;
        private int appendEntriesMax = 4096;
        private int inflightAppendsMax = 256;
        private long inflightBytesMax = 0;
        private long uncommittedBytesMax = 64L << 20;
        private long proposalBytesMax = 8L << 20;
        private long committedBytesPerReadyMax = 64L << 20;
        private int pendingReadsMax = 65536;

        private Builder(long id) { this.id = id; }

        public Builder electionTicks(int v) { electionTicks = v; return this; }
        public Builder heartbeatTicks(int v) { heartbeatTicks = v; return this; }
        public Builder preVote(boolean v) { preVote = v; return this; }
        public Builder checkQuorum(boolean v) { checkQuorum = v; return this; }
        public Builder leaseBasedReads(boolean v) { leaseBasedReads = v; return this; }
        public Builder appendBytesMax(long v) { appendBytesMax = v; return this; }
        public Builder appendEntriesMax(int v) { appendEntriesMax = v; return this; }
        public Builder inflightAppendsMax(int v) { inflightAppendsMax = v; return this; }
        public Builder inflightBytesMax(long v) { inflightBytesMax = v; return this; }
        public Builder uncommittedBytesMax(long v) { uncommittedBytesMax = v; return this; }
        public Builder proposalBytesMax(long v) { proposalBytesMax = v; return this; }
        public Builder committedBytesPerReadyMax(long v) { committedBytesPerReadyMax = v; return this; }
        public Builder pendingReadsMax(int v) { pendingReadsMax = v; return this; }

        public RaftConfig build() {
            return new RaftConfig(id, electionTicks, heartbeatTicks, preVote, checkQuorum, leaseBasedReads, appendBytesMax,
                    appendEntriesMax, inflightAppendsMax, inflightBytesMax, uncommittedBytesMax, proposalBytesMax,
                    committedBytesPerReadyMax, pendingReadsMax);
        }
    }
}
