package io.synod.mvcc;

import java.util.List;

/** How many keys a delete removed and, if asked for, their last versions in key order. */
public record DeleteRangeResponse(long revision, long deleted, List<KeyValue> prevKvs) implements Response {
    public DeleteRangeResponse {
        prevKvs = List.copyOf(prevKvs);
    }
}
