package io.synod.mvcc;

/**
 * A committed write the state machine applies, replicated as opaque bytes through
 * {@link CommandCodec}. Lease commands (grant, revoke, keep-alive checkpoints) will join this
 * hierarchy; the codec reserves tags for them.
 */
public sealed interface Command permits PutRequest, DeleteRangeRequest, TxnRequest, CompactRequest {}
