package io.synod.server;

import io.synod.consensus.Ready;
import io.synod.replica.ReplicaStorage;
import io.synod.storage.raftlog.DurableRaftLog;
import java.io.IOException;

/**
 * Persists a Ready into the {@link DurableRaftLog}: entries and hard state with one WAL append,
 * flushed when the Ready says it must be. Snapshot installation is not part of this increment
 * (the log is never compacted, so a leader never needs to send one).
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
}
