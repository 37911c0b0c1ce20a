package io.synod.consensus;

/**
 * A message between members of one consensus group. Each protocol (Raft, later Multi-Paxos)
 * defines its own sealed family of messages; drivers, transports and simulators only need to
 * know who it is from and to, and roughly how big it is.
 */
public interface Message {
    long from();

    long to();

    long term();

    /** Approximate encoded size, for transport batching and simulated bandwidth. */
    long sizeBytes();

    /**
     * Whether handling this message may add entries or a snapshot to the receiver's log, so that
     * the work it causes ends with a flush of them. A driver runs the cheap ones (acknowledgements,
     * heartbeats) wherever they arrive and keeps the others for the thread that batches flushes.
     * The default is the safe answer for a protocol that does not say.
     */
    default boolean appendsEntries() {
        return true;
    }

    /**
     * The log index this message is about, for tracing a write's path across members: the last
     * entry an append carries, or the index an accepted answer acknowledges; -1 for everything else.
     */
    default long traceIndex() {
        return -1;
    }
}
