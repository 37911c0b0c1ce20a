package io.synod.mvcc;

/**
 * A committed write the state machine applies, replicated as opaque bytes through
 * {@link CommandCodec}: key-value writes, compaction, the {@link LeaseCommand}s, alarms and {@link AuthCommand}s.
 */
public sealed interface Command permits PutRequest, DeleteRangeRequest, TxnRequest, CompactRequest, LeaseCommand, AlarmCommand, AuthCommand {}
