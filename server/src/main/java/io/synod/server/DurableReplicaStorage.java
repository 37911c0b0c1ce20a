package io.synod.server;

import io.synod.consensus.ConfState;
import io.synod.consensus.Ready;
import io.synod.replica.ReplicaStorage;
import io.synod.storage.raftlog.DurableRaftLog;
import java.io.IOException;

/**
 * Persists a Ready into the {@link DurableRaftLog}: a snapshot's metadata (the state itself was
 * installed into the MVCC store just before), entries and hard state with one WAL append, flushed
 * when the Ready says it must be. Compaction records the snapshot metadata (index, term,
 * membership) in the WAL and releases the segments that hold only entries before it.
 */
public final class DurableReplicaStorage implements ReplicaStorage {
    private final DurableRaftLog log;

    public DurableReplicaStorage(DurableRaftLog log) {
        this.log = log;
    }

    @Override
    public void persist(Ready rd) throws IOException {
        if (!rd.snapshot().isEmpty()) log.applySnapshot(rd.snapshot().meta());
        log.save(rd.hardState(), rd.entries(), rd.mustSync());
    }

    @Override
    public long snapshotIndex() {
        return log.snapshotMeta().index();
    }

    @Override
    public void compact(long index, ConfState confState) throws IOException {
        log.compact(index, confState);
    }
}
