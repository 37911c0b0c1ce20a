package io.synod.mvcc;

import io.synod.common.Assert;
import java.util.List;

/**
 * The replicated commands that change leases. Lease time is decided by the leader's clock, but
 * every change a lease's fate depends on goes through the log: grants, revokes, renewals
 * (keep-alives) and expiries, plus periodic checkpoints of the remaining time, so that a newly
 * elected leader can restart each lease's countdown from what was left rather than from the full
 * TTL (etcd resets it) or from nothing (which would expire leases early).
 *
 * <p>Each lease carries an epoch: the log index of its grant or latest renewal. Expiries and
 * checkpoints name the epoch they were computed from and are ignored when the lease was renewed
 * in between, so a decision a leader took on stale knowledge (a renewal it had not applied yet,
 * or one committed by its successor) can never cut a lease short.
 */
public sealed interface LeaseCommand extends Command {
    /** Creates lease {@code id} (never 0: the proposer picks one) with a TTL in seconds. */
    record Grant(long id, long ttlSeconds) implements LeaseCommand {
        public Grant {
            Assert.that(id != 0, "lease grant needs a non-zero id");
            Assert.that(ttlSeconds > 0, "lease %d grant ttl %d must be positive", id, ttlSeconds);
        }
    }

    /**
     * Deletes lease {@code id} and the keys attached to it, all at one revision when there are at
     * most {@link MvccOptions#leaseRevokeKeysMax()} of them. A lease with more keys is marked
     * revoking (dead to clients from then on) and each further Revoke deletes the next batch,
     * until the lease is gone; the leader and the revoking client keep proposing them.
     */
    record Revoke(long id) implements LeaseCommand {}

    /** A keep-alive: restarts the lease's countdown from its full TTL and moves its epoch here. */
    record Renew(long id) implements LeaseCommand {}

    /** The leader saw lease {@code id} run out while it was at {@code epoch}: revoke it unless renewed since. */
    record Expire(long id, long epoch) implements LeaseCommand {}

    /** Remaining time of leases as the leader measured it, each applied only if the epoch still matches. */
    record Checkpoint(List<Remaining> leases) implements LeaseCommand {
        public Checkpoint {
            leases = List.copyOf(leases);
        }
    }

    /** One lease's remaining time in a {@link Checkpoint}. */
    record Remaining(long id, long epoch, long remainingMillis) {
        public Remaining {
            Assert.that(remainingMillis >= 0, "lease %d checkpoint remaining %d must not be negative", id, remainingMillis);
        }
    }
}
