package io.synod.mvcc;

import java.util.Optional;

/**
 * Told about every applied change to a lease, on the applying thread and outside the store lock;
 * it must be quick. The leader's expiry timers follow the replicated state through it: a grant or
 * renewal restarts a countdown, a revoke or expiry ends one.
 */
@FunctionalInterface
public interface LeaseListener {
    /** What happened to a lease. */
    enum Change { GRANTED, RENEWED, CHECKPOINTED, REVOKING, REVOKED }

    /** {@code lease} is the state after the change, empty when revoked; REVOKING means keys remain to be deleted. */
    void onLease(Change change, long id, Optional<Lease> lease);
}
