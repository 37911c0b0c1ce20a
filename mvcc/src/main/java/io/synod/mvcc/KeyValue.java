package io.synod.mvcc;

/**
 * One version of one key as etcd reports it. {@code version} is 1 when the key is created and
 * grows by one per put until the key is deleted; {@code createRevision} is the main revision of
 * that creating put and {@code modRevision} the main revision of the latest one. {@code lease} is
 * 0 when the key is not attached to a lease. In a DELETE event only {@code key} and
 * {@code modRevision} (the delete's revision) are meaningful, the rest are zero, as in etcd.
 */
public record KeyValue(Bytes key, long createRevision, long modRevision, long version, Bytes value, long lease) {
    /** The same version without its value, as a keys_only range returns it. */
    public KeyValue withoutValue() {
        return value.isEmpty() ? this : new KeyValue(key, createRevision, modRevision, version, Bytes.EMPTY, lease);
    }
}
