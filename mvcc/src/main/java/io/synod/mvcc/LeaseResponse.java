package io.synod.mvcc;

/**
 * The outcome of a {@link LeaseCommand}. {@code found} is false for a renewal or expiry of a lease
 * that no longer exists (a keep-alive then answers TTL 0, as etcd's does) and for an expiry or
 * checkpoint skipped because the lease was renewed after the leader decided; {@code ttlSeconds}
 * is the granted TTL when found.
 */
public record LeaseResponse(long revision, long id, long ttlSeconds, boolean found) implements Response {}
