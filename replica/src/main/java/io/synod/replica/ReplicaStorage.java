package io.synod.replica;

import io.synod.consensus.ConfState;
import io.synod.consensus.Ready;
import java.io.IOException;

/**
 * The durable side of a member as the driver needs it: make a Ready's snapshot, entries and hard
 * state durable (with one flush when {@code mustSync}) before anything else of that Ready happens.
 * The same object usually is the {@link io.synod.consensus.LogStorage} the core reads.
 */
public interface ReplicaStorage {
    void persist(Ready ready) throws IOException;

    /** Index of the latest snapshot recorded in the log (0 if none): entries up to it are gone. */
    long snapshotIndex();

    /**
     * Records a snapshot at {@code index} (applied, and durable in the state machine) with the
     * membership in force there, durably, and discards the entries up to it.
     */
    void compact(long index, ConfState confState) throws IOException;
}
