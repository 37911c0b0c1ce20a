package io.synod.replica;

/**
 * What a {@link ReplicaDriver} tells an observer (metrics, logs) about its loop, called on the
 * loop's own thread. The driver has no clock, so it reports events, never durations: an observer
 * that wants apply latency reads its own clock between {@link #applyStarted} and
 * {@link #applyFinished}. Implementations must be quick and must not throw: they run inside the
 * Ready handling, between persisting and advancing. Every method defaults to doing nothing, so
 * {@link #NONE} is the listener of a driver nobody watches.
 */
public interface ReplicaListener {
    /** Observes nothing. */
    ReplicaListener NONE = new ReplicaListener() {};

    /** The leader this member knows of changed; {@code leader} is 0 when it knows of none. */
    default void leaderChanged(long leader, long term) {}

    /** The committed entries of one Ready (at least one) are about to be applied. */
    default void applyStarted(int entries) {}

    /** Those entries were applied; {@code appliedIndex} is the index of the last one. */
    default void applyFinished(int entries, long appliedIndex) {}

    /**
     * A proposal failed after it was handed to the core: rejected by it, or lost because another
     * leader's entry was applied at its index (etcd counts both as failed proposals).
     */
    default void proposalFailed() {}
}
