/**
 * The durable Raft log: {@link io.synod.storage.raftlog.DurableRaftLog}, a
 * {@link io.synod.consensus.LogStorage} whose entries, hard state and snapshot metadata share one
 * WAL so that each Ready is persisted with a single flush.
 */
package io.synod.storage.raftlog;
