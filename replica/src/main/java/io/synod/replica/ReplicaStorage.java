package io.synod.replica;

import io.synod.consensus.Ready;
import java.io.IOException;

/**
 * The durable side of a member as the driver needs it: make a Ready's snapshot, entries and hard
 * state durable (with one flush when {@code mustSync}) before anything else of that Ready happens.
 * The same object usually is the {@link io.synod.consensus.LogStorage} the core reads.
 */
public interface ReplicaStorage {
    void persist(Ready ready) throws IOException;
}
