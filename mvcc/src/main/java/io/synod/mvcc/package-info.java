/**
 * The etcd-v3-compatible multi-version key-value state machine. {@link io.synod.mvcc.MvccStore}
 * applies committed {@link io.synod.mvcc.Command}s (put, delete-range, txn, compact) in log
 * order, durably and idempotently, and serves {@link io.synod.mvcc.RangeRequest}s at current or
 * historical revisions; {@link io.synod.mvcc.CommandCodec} turns commands into the opaque bytes
 * the log replicates; {@link io.synod.mvcc.ChangeListener} and
 * {@link io.synod.mvcc.MvccStore#changesSince} feed watches; {@link io.synod.mvcc.MvccSnapshot}
 * and {@link io.synod.mvcc.SnapshotReceiver} move a whole store to a lagging member. Errors are
 * {@link io.synod.mvcc.MvccError} values with etcd's exact messages. Nothing here knows about
 * consensus, gRPC or protobuf.
 */
package io.synod.mvcc;
