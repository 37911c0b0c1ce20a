package io.synod.mvcc.auth;

import io.synod.mvcc.Bytes;

/**
 * A key permission of a role, as etcd's {@code authpb.Permission}: a single key (empty
 * {@code rangeEnd}) or the range {@code [key, rangeEnd)}, where a {@code rangeEnd} of one zero
 * byte means every key from {@code key} on (and {@code key} "\0" with it, every key).
 */
public record Permission(Type type, Bytes key, Bytes rangeEnd) {
    /** etcd's wire numbers: READ 0, WRITE 1, READWRITE 2. */
    public enum Type {
        READ, WRITE, READWRITE;

        public boolean allowsRead() {
            return this != WRITE;
        }

        public boolean allowsWrite() {
            return this != READ;
        }
    }

    public Permission {
        java.util.Objects.requireNonNull(type, "type");
        java.util.Objects.requireNonNull(key, "key");
        java.util.Objects.requireNonNull(rangeEnd, "rangeEnd");
    }

    /** The same key or range (etcd grants over a permission with the same range, and revokes by range). */
    public boolean sameRange(Bytes otherKey, Bytes otherRangeEnd) {
        return key.equals(otherKey) && rangeEnd.equals(otherRangeEnd);
    }
}
