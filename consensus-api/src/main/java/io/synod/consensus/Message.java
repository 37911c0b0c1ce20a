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
}
