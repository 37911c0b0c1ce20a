package io.synod.mvcc;

import java.util.List;

/**
 * Keys found by a range. {@code count} is how many keys the range holds at the read revision,
 * regardless of limit and of the revision filters; {@code more} says the limit cut the result.
 */
public record RangeResponse(long revision, List<KeyValue> kvs, boolean more, long count) implements Response {
    public RangeResponse {
        kvs = List.copyOf(kvs);
    }
}
