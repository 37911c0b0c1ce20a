package io.synod.mvcc;

/**
 * The replicated state of one lease: its granted TTL in seconds, the time that was left when the
 * leader last recorded it (the full TTL after a grant or renewal, less after a checkpoint), and
 * the epoch (log index of the grant or latest renewal) that orders renewals against expiries.
 * {@code revoking} marks a lease whose revoke has begun but which still has keys to delete (see
 * {@link MvccOptions#leaseRevokeKeysMax()}): it is dead to clients (no new keys, no renewals) and
 * only exists until its last keys are gone. Keys attached to the lease are tracked separately,
 * see {@link MvccStore#leaseKeys(long)}.
 */
public record Lease(long id, long ttlSeconds, long remainingMillis, long epoch, boolean revoking) {
    /** etcd's upper bound on a lease TTL, in seconds. */
    public static final long MAX_TTL_SECONDS = 9_000_000_000L;

    /** A live lease. */
    public Lease(long id, long ttlSeconds, long remainingMillis, long epoch) {
        this(id, ttlSeconds, remainingMillis, epoch, false);
    }

    /** True for a lease clients can still use: granted and not being revoked. */
    public boolean live() {
        return !revoking;
    }
}
