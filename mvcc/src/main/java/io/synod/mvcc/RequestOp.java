package io.synod.mvcc;

/** One operation inside a txn branch: etcd allows ranges, puts, deletes and nested txns. */
public sealed interface RequestOp permits RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest {}
