package io.synod.mvcc;

/**
 * One txn guard: the target field of the key (or of every key in [key, rangeEnd), using the
 * {@link RangeRequest} range conventions) compared with a given operand. A missing key compares
 * as version/create/mod/lease 0, but a VALUE compare on a missing key (or empty range) is always
 * false, as in etcd, because an absent value cannot be told from an empty one otherwise.
 */
public record Compare(Bytes key, Bytes rangeEnd, Op op, Target target) {

    public enum Op { EQUAL, GREATER, LESS, NOT_EQUAL }

    /** What is compared, together with its operand. */
    public sealed interface Target {}

    public record Version(long version) implements Target {}

    public record Create(long revision) implements Target {}

    public record Mod(long revision) implements Target {}

    public record Value(Bytes value) implements Target {}

    public record Lease(long lease) implements Target {}

    public static Compare of(Bytes key, Op op, Target target) {
        return new Compare(key, Bytes.EMPTY, op, target);
    }
}
