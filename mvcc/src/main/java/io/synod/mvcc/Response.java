package io.synod.mvcc;

/**
 * The outcome of a request. {@code revision()} is etcd's header revision: the store revision
 * after the request (for a read at a historical revision, still the current one).
 */
public sealed interface Response permits RangeResponse, PutResponse, DeleteRangeResponse, TxnResponse, CompactResponse, LeaseResponse, AlarmResponse, AuthResponse {
    long revision();
}
