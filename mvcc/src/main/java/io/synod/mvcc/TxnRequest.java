package io.synod.mvcc;

import java.util.List;

/**
 * An atomic compare-then-act: if every compare holds (against the state before the txn) the
 * success ops run, otherwise the failure ops. All writes share one main revision with increasing
 * sub revisions; reads inside see the txn's earlier writes. No key may be written twice.
 */
public record TxnRequest(List<Compare> compares, List<RequestOp> success, List<RequestOp> failure)
        implements Command, RequestOp {
    public TxnRequest {
        compares = List.copyOf(compares);
        success = List.copyOf(success);
        failure = List.copyOf(failure);
    }
}
