package io.synod.mvcc;

/**
 * A read of the keys in [key, rangeEnd) at a revision, with etcd's conventions: an empty
 * {@code rangeEnd} means the single key, {@link Bytes#ZERO} means every key at or after
 * {@code key} (so key = rangeEnd = "\0" is the whole keyspace), a prefix read uses
 * {@code key.prefixEnd()}. {@code revision} 0 (or negative) reads the current revision.
 * {@code limit} 0 (or negative) is unlimited. Revision filters of 0 are off. {@code serializable}
 * only matters to the server's read path and is ignored here.
 */
public record RangeRequest(
        Bytes key,
        Bytes rangeEnd,
        long limit,
        long revision,
        SortOrder sortOrder,
        SortTarget sortTarget,
        boolean serializable,
        boolean keysOnly,
        boolean countOnly,
        long minModRevision,
        long maxModRevision,
        long minCreateRevision,
        long maxCreateRevision) implements RequestOp {

    public enum SortOrder { NONE, ASCEND, DESCEND }

    public enum SortTarget { KEY, VERSION, CREATE, MOD, VALUE }

    public static RangeRequest of(Bytes key, Bytes rangeEnd) {
        return new RangeRequest(key, rangeEnd, 0, 0, SortOrder.NONE, SortTarget.KEY, false, false, false, 0, 0, 0, 0);
    }

    public static RangeRequest single(Bytes key) {
        return of(key, Bytes.EMPTY);
    }

    public static RangeRequest prefix(Bytes prefix) {
        return of(prefix, prefix.prefixEnd());
    }

    public static RangeRequest fromKey(Bytes key) {
        return of(key, Bytes.ZERO);
    }

    public static RangeRequest all() {
        return of(Bytes.ZERO, Bytes.ZERO);
    }

    public RangeRequest withLimit(long l) {
        return new RangeRequest(key, rangeEnd, l, revision, sortOrder, sortTarget, serializable, keysOnly, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest atRevision(long r) {
        return new RangeRequest(key, rangeEnd, limit, r, sortOrder, sortTarget, serializable, keysOnly, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest sorted(SortOrder order, SortTarget target) {
        return new RangeRequest(key, rangeEnd, limit, revision, order, target, serializable, keysOnly, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest keysOnly(boolean on) {
        return new RangeRequest(key, rangeEnd, limit, revision, sortOrder, sortTarget, serializable, on, countOnly,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest countOnly(boolean on) {
        return new RangeRequest(key, rangeEnd, limit, revision, sortOrder, sortTarget, serializable, keysOnly, on,
                minModRevision, maxModRevision, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest modRevisionBetween(long min, long max) {
        return new RangeRequest(key, rangeEnd, limit, revision, sortOrder, sortTarget, serializable, keysOnly, countOnly,
                min, max, minCreateRevision, maxCreateRevision);
    }

    public RangeRequest createRevisionBetween(long min, long max) {
        return new RangeRequest(key, rangeEnd, limit, revision, sortOrder, sortTarget, serializable, keysOnly, countOnly,
                minModRevision, maxModRevision, min, max);
    }
}
