package io.synod.consensus;

/**
 * One member of a consensus group as a pure, single-threaded state machine: no I/O, threads,
 * clocks or randomness of its own. Time enters through {@link #tick()}, the network through
 * {@link #step(Message)}, clients through the propose/read calls; everything the node wants
 * done leaves through {@link #ready()}. The same driver loop runs it in the server and in the
 * deterministic simulator, which is what makes every failure replayable from a seed.
 */
public interface ConsensusNode {
    long id();

    /** Advances logical time by one tick (election and heartbeat timeouts are counted in ticks). */
    void tick();

    /** Delivers a message from another member. Messages for other nodes or of stale terms are ignored. */
    void step(Message message);

    /** Proposes an application command. See {@link ProposeResult} for how to learn its fate. */
    ProposeResult propose(byte[] data);

    /** Proposes a membership change; at most one is in flight at a time. */
    ProposeResult proposeConfChange(ConfChange change);

    /**
     * Requests a linearizable read point. On success a {@link ReadState} with the same context
     * appears in a later {@link Ready} (or the context appears in {@link Ready#readsAborted()}).
     */
    ProposeResult readIndex(byte[] requestContext);

    /** Asks the leader to hand leadership to {@code transferee} (TimeoutNow, Raft §3.10). */
    ProposeResult transferLeadership(long transferee);

    /**
     * Applies a committed CONF_CHANGE entry's change to the node's view of membership; the
     * driver calls it when it applies that entry, and records the returned state with its
     * snapshot bookkeeping.
     */
    ConfState applyConfChange(ConfChange change);

    /** Tells the leader that sending a snapshot to {@code to} finished (or failed). */
    void reportSnapshot(long to, boolean success);

    /** Tells the leader that {@code to} could not be reached, so it probes instead of streaming. */
    void reportUnreachable(long to);

    boolean hasReady();

    Ready ready();

    /** Acknowledges that the given Ready (the latest one returned) was fully handled. */
    void advance(Ready ready);

    Status status();

    /** The leader this node currently knows ({@link SoftState#NO_LEADER} if none): {@code status().leader()} without building a status. */
    default long leader() {
        return status().leader();
    }
}
