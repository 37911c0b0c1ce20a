package io.synod.server;

import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.grpc.StatusRuntimeException;
import io.synod.mvcc.KvHash;
import io.synod.mvcc.MvccException;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.server.transport.PeerTransport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's periodic corruption check, run by the leader: it hashes its own key-value history up to
 * its current revision ({@link MvccStore#hashKv}) and asks every peer for the hash up to the same
 * revision. Members that applied the same log must agree whatever their physical compaction has
 * done, so a peer that reports the same compaction revision and a different hash holds different
 * data: the leader raises the CORRUPT alarm naming it (replicated, so every member reports it and
 * the store refuses writes). A peer that is behind (it has not reached the revision yet) or
 * unreachable is skipped until the next round.
 */
final class CorruptionCheck {
    private static final Logger log = LoggerFactory.getLogger(CorruptionCheck.class);

    private final long memberId;
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final PeerTransport transport;
    private final Alarms alarms;
    private final long peerTimeoutMillis;

    CorruptionCheck(long memberId, ReplicaDriver driver, StoreHolder store, PeerTransport transport, Alarms alarms, long peerTimeoutMillis) {
        this.memberId = memberId;
        this.driver = driver;
        this.store = store;
        this.transport = transport;
        this.alarms = alarms;
        this.peerTimeoutMillis = peerTimeoutMillis;
    }

    /** One round; returns the members found to disagree with the leader (empty when not leading). */
    List<Long> check() {
        List<Long> corrupt = new ArrayList<>();
        if (driver.leader() != memberId) return corrupt;
        KvHash mine;
        try {
            mine = store.read(s -> s.hashKv(s.currentRevision()));
        } catch (MvccException | IllegalStateException e) {
            return corrupt;
        }
        for (long peer : transport.peers()) {
            HashKVResponse theirs;
            try {
                theirs = MaintenanceGrpc.newBlockingStub(transport.channel(peer)).withDeadlineAfter(peerTimeoutMillis, TimeUnit.MILLISECONDS)
                        .hashKV(HashKVRequest.newBuilder().setRevision(mine.revision()).build());
            } catch (StatusRuntimeException behindOrAway) {
                continue;
            }
            var alarm = new Alarms.AlarmMember(peer, Alarms.Alarm.CORRUPT);
            if (theirs.getCompactRevision() == mine.compactRevision() && theirs.getHash() != mine.hash() && !alarms.list().contains(alarm)) {
                log.error("member {} disagrees with the leader at revision {} (hash {} vs {}); raising CORRUPT", Long.toHexString(peer),
                        mine.revision(), Integer.toHexString(theirs.getHash()), Integer.toHexString(mine.hash()));
                corrupt.add(peer);
                alarms.raise(alarm);
            }
        }
        return corrupt;
    }
}
