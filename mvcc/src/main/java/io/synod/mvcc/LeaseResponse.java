package io.synod.mvcc;

/**
 * The outcome of a {@link LeaseCommand}. {@code found} is false for a renewal or expiry of a lease
 * that no longer exists (a keep-alive then answers TTL 0, as etcd's does) and for an expiry or
 * checkpoint skipped because the lease was renewed after the leader decided; {@code ttlSeconds}
 * is the granted TTL when found. {@code complete} is false when a revoke or expiry deleted as many
 * keys as one command may and the lease still has more: another revoke continues it.
 */
public record LeaseResponse(long revision, long id, long ttlSeconds, boolean found, boolean complete) implements Response {
    public LeaseResponse(long revision, long id, long ttlSeconds, boolean found) {
        this(revision, id, ttlSeconds, found, true);
    }
}
