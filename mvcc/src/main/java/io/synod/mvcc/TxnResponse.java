package io.synod.mvcc;

import java.util.List;

/** Which branch ran and one response per op of that branch, in order. */
public record TxnResponse(long revision, boolean succeeded, List<Response> responses) implements Response {
    public TxnResponse {
        responses = List.copyOf(responses);
    }
}
