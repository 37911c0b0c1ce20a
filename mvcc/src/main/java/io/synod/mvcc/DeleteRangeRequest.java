package io.synod.mvcc;

/**
 * Deletes the keys in [key, rangeEnd), with the same range conventions as {@link RangeRequest}.
 * Deleting nothing creates no revision.
 */
public record DeleteRangeRequest(Bytes key, Bytes rangeEnd, boolean prevKv) implements Command, RequestOp {
    public static DeleteRangeRequest single(Bytes key) {
        return new DeleteRangeRequest(key, Bytes.EMPTY, false);
    }

    public static DeleteRangeRequest of(Bytes key, Bytes rangeEnd) {
        return new DeleteRangeRequest(key, rangeEnd, false);
    }

    public DeleteRangeRequest withPrevKv() {
        return new DeleteRangeRequest(key, rangeEnd, true);
    }
}
