package io.synod.mvcc;

/**
 * Sets a key's value, creating a new revision even when the value is unchanged. With
 * {@code ignoreValue} / {@code ignoreLease} the key's current value / lease are kept (the key must
 * then exist, and the ignored field must be left empty / 0). {@code lease} 0 means no lease.
 */
public record PutRequest(Bytes key, Bytes value, long lease, boolean prevKv, boolean ignoreValue, boolean ignoreLease)
        implements Command, RequestOp {

    public static PutRequest of(Bytes key, Bytes value) {
        return new PutRequest(key, value, 0, false, false, false);
    }

    public PutRequest withPrevKv() {
        return new PutRequest(key, value, lease, true, ignoreValue, ignoreLease);
    }

    public PutRequest withLease(long l) {
        return new PutRequest(key, value, l, prevKv, ignoreValue, ignoreLease);
    }
}
