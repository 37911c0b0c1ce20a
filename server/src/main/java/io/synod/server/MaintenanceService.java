package io.synod.server;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.synod.common.Assert;
import io.synod.mvcc.MvccSnapshot;
import io.synod.mvcc.SnapshotFile;
import java.io.IOException;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.etcd.jetcd.api.AlarmMember;
import io.etcd.jetcd.api.AlarmRequest;
import io.etcd.jetcd.api.AlarmResponse;
import io.etcd.jetcd.api.DefragmentRequest;
import io.etcd.jetcd.api.DefragmentResponse;
import io.etcd.jetcd.api.HashKVRequest;
import io.etcd.jetcd.api.HashKVResponse;
import io.etcd.jetcd.api.HashRequest;
import io.etcd.jetcd.api.HashResponse;
import io.etcd.jetcd.api.MaintenanceGrpc;
import io.etcd.jetcd.api.MoveLeaderRequest;
import io.etcd.jetcd.api.MoveLeaderResponse;
import io.etcd.jetcd.api.SnapshotRequest;
import io.etcd.jetcd.api.SnapshotResponse;
import io.etcd.jetcd.api.StatusRequest;
import io.etcd.jetcd.api.StatusResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.ConfState;
import io.synod.consensus.ProposeResult;
import io.synod.mvcc.KvHash;
import io.synod.mvcc.MvccException;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's Maintenance service: Status, Hash, HashKV, Defragment, Alarm and MoveLeader, which is
 * what {@code etcdctl endpoint status|hashkv}, {@code defrag}, {@code alarm list} and
 * {@code move-leader} call, and Snapshot, which {@code etcdctl snapshot save} calls (the file it
 * writes is Synod's format; {@code synod snapshot restore} restores it).
 *
 * <p>The jetcd stubs Synod compiles against predate some fields etcd 3.4 clients read (Status's
 * raftAppliedIndex, errors, dbSizeInUse and isLearner; HashKV's hash_revision). They are sent as
 * protobuf fields under etcd's field numbers ({@link #STATUS_RAFT_APPLIED_INDEX} and the others),
 * so a client compiled from etcd's own proto sees them as ordinary fields.
 */
final class MaintenanceService extends MaintenanceGrpc.MaintenanceImplBase {
    private static final Logger log = LoggerFactory.getLogger(MaintenanceService.class);

    /** The etcd API version reported; clients use it to decide which features they may call. */
    static final String API_VERSION = "3.5.0";

    // Field numbers of etcd's rpc.proto that the jetcd stubs lack.
    static final int STATUS_RAFT_APPLIED_INDEX = 7;
    static final int STATUS_ERRORS = 8;
    static final int STATUS_DB_SIZE_IN_USE = 9;
    static final int STATUS_IS_LEARNER = 10;
    static final int HASHKV_HASH_REVISION = 4;

    private final ServerConfig config;
    private final KvService kv;
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final Alarms alarms;
    private final java.util.concurrent.Semaphore snapshotPermits;
    /** Bytes of state per snapshot response message. */
    static final int SNAPSHOT_CHUNK_BYTES = 1 << 20;

    MaintenanceService(ServerConfig config, KvService kv, ReplicaDriver driver, StoreHolder store, Alarms alarms) {
        this.config = config;
        this.kv = kv;
        this.driver = driver;
        this.store = store;
        this.alarms = alarms;
        this.snapshotPermits = new java.util.concurrent.Semaphore(config.limits().snapshotDownloadsMax());
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        respond(out, () -> {
            long self = config.memberId();
            var status = driver.status();
            var extra = UnknownFieldSet.newBuilder()
                    .addField(STATUS_RAFT_APPLIED_INDEX, varint(driver.appliedIndex()))
                    .addField(STATUS_DB_SIZE_IN_USE, varint(store.read(MvccStore::dbSizeInUseBytes)))
                    .addField(STATUS_IS_LEARNER, varint(status.confState().learners().contains(self) ? 1 : 0));
            List<String> errors = errors();
            if (!errors.isEmpty()) {
                var field = UnknownFieldSet.Field.newBuilder();
                for (String e : errors) field.addLengthDelimited(ByteString.copyFromUtf8(e));
                extra.addField(STATUS_ERRORS, field.build());
            }
            return StatusResponse.newBuilder()
                    .setHeader(kv.header(store.read(MvccStore::currentRevision)))
                    .setVersion(API_VERSION)
                    .setDbSize(store.read(MvccStore::dbSizeBytes))
                    .setLeader(driver.leader())
                    .setRaftIndex(status.commitIndex())
                    .setRaftTerm(driver.term())
                    .setUnknownFields(extra.build())
                    .build();
        });
    }

    /** What is wrong with this member, in words an operator reads in {@code etcdctl endpoint status}. */
    private List<String> errors() {
        var errors = new ArrayList<String>();
        Throwable failure = driver.failure();
        if (failure != null) errors.add("raft loop stopped: " + failure);
        for (Alarms.AlarmMember a : alarms.list()) {
            errors.add("memberID:" + Long.toUnsignedString(a.memberId()) + " alarm:" + a.alarm());
        }
        return errors;
    }

    private static UnknownFieldSet.Field varint(long v) {
        return UnknownFieldSet.Field.newBuilder().addVarint(v).build();
    }

    @Override
    public void hash(HashRequest request, StreamObserver<HashResponse> out) {
        respond(out, () -> {
            long revision = store.read(MvccStore::currentRevision);
            int hash = store.read(MvccStore::hashAll);
            return HashResponse.newBuilder().setHeader(kv.header(revision)).setHash(hash).build();
        });
    }

    @Override
    public void hashKV(HashKVRequest request, StreamObserver<HashKVResponse> out) {
        respond(out, () -> {
            KvHash h = store.read(s -> s.hashKv(request.getRevision()));
            return HashKVResponse.newBuilder()
                    .setHeader(kv.header(store.read(MvccStore::currentRevision)))
                    .setHash(h.hash())
                    .setCompactRevision(h.compactRevision())
                    .setUnknownFields(UnknownFieldSet.newBuilder().addField(HASHKV_HASH_REVISION, varint(h.revision())).build())
                    .build();
        });
    }

    @Override
    public void defragment(DefragmentRequest request, StreamObserver<DefragmentResponse> out) {
        respond(out, () -> {
            long before = store.read(MvccStore::dbSizeBytes);
            long startNanos = System.nanoTime();
            if (!store.read(MvccStore::defragment)) throw Status.UNAVAILABLE.withDescription("etcdserver: server stopped").asRuntimeException();
            log.info("defragmented: {} -> {} bytes in {} ms", before, store.read(MvccStore::dbSizeBytes),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos));
            return DefragmentResponse.newBuilder().setHeader(kv.header(store.read(MvccStore::currentRevision))).build();
        });
    }

    @Override
    public void alarm(AlarmRequest request, StreamObserver<AlarmResponse> out) {
        respond(out, () -> {
            var response = AlarmResponse.newBuilder().setHeader(kv.header(store.read(MvccStore::currentRevision)));
            switch (request.getAction()) {
                case GET -> alarms.list().forEach(a -> response.addAlarms(proto(a)));
                case DEACTIVATE -> {
                    // etcdctl's "alarm disarm" sends member 0 and NONE for "every alarm"; each one is cleared through the log.
                    for (Alarms.AlarmMember a : alarms.list()) {
                        boolean matches = (request.getMemberID() == 0 || request.getMemberID() == a.memberId())
                                && (request.getAlarmValue() == 0 || Alarms.Alarm.ofWire(request.getAlarmValue()).equals(
                                        java.util.Optional.of(a.alarm())));
                        if (matches && alarms.clear(a)) response.addAlarms(proto(a));
                    }
                }
                case ACTIVATE -> {
                    var alarm = Alarms.Alarm.ofWire(request.getAlarmValue()).orElseThrow(() -> Status.INVALID_ARGUMENT
                            .withDescription("etcdserver: unknown alarm type " + request.getAlarmValue()).asRuntimeException());
                    var raised = new Alarms.AlarmMember(request.getMemberID() == 0 ? config.memberId() : request.getMemberID(), alarm);
                    alarms.raise(raised);
                    response.addAlarms(proto(raised));
                }
                default -> throw Status.INVALID_ARGUMENT.withDescription("etcdserver: unknown alarm action").asRuntimeException();
            }
            return response.build();
        });
    }

    private static AlarmMember proto(Alarms.AlarmMember a) {
        return AlarmMember.newBuilder().setMemberID(a.memberId()).setAlarmValue(a.alarm().wire).build();
    }

    /**
     * Hands leadership to {@code targetID} (Raft's TimeoutNow) and answers once this member sees
     * the target lead. Like etcd, it must be sent to the leader ({@code etcdctl move-leader} finds
     * it among the endpoints), the target must be a voter, and it fails after the request timeout.
     */
    @Override
    public void moveLeader(MoveLeaderRequest request, StreamObserver<MoveLeaderResponse> out) {
        respond(out, () -> {
            long self = config.memberId();
            long target = request.getTargetID();
            if (driver.leader() != self) throw notLeader();
            ConfState conf = driver.status().confState();
            if (!conf.isVoter(target)) throw badTransferee();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMillis());
            if (target != self) {
                switch (await(driver.transferLeadership(target), deadline)) {
                    case ProposeResult.Accepted a -> log.info("moving leadership to {} (term {})", Long.toHexString(target), a.term());
                    case ProposeResult.Rejected r -> throw switch (r.reason()) {
                        case NOT_LEADER, NO_LEADER -> notLeader();
                        case UNKNOWN_MEMBER -> badTransferee();
                        default -> Status.FAILED_PRECONDITION.withDescription("synod: " + r.reason() + ": " + r.detail()).asRuntimeException();
                    };
                }
                while (driver.leader() != target) {
                    if (System.nanoTime() >= deadline) throw transferTimedOut();
                    sleep(config.retryBackoffMillis());
                }
            }
            return MoveLeaderResponse.newBuilder().setHeader(kv.header(store.read(MvccStore::currentRevision))).build();
        });
    }

    /**
     * Streams a consistent backup of this member's state ({@link SnapshotFile}: a header, then the
     * checkpoint's chunks), respecting gRPC flow control: a chunk is read from disk only when the
     * client can take it, so a slow client costs a blocked thread, never memory. At most
     * {@link ServerLimits#snapshotDownloadsMax()} run at once; more are refused as etcd refuses an overloaded member.
     */
    @Override
    public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> out) {
        if (!snapshotPermits.tryAcquire()) {
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException());
            return;
        }
        var call = (ServerCallStreamObserver<SnapshotResponse>) out;
        try (MvccSnapshot snap = store.snapshot(SNAPSHOT_CHUNK_BYTES)) {
            long streamBytes = snap.totalBytes();
            byte[] head = SnapshotFile.header(snap.appliedIndex(), streamBytes);
            long total = head.length + streamBytes;
            byte[] padding = SnapshotFile.padding(total);
            long remaining = total + padding.length + SnapshotFile.DIGEST_BYTES;
            var sha = SnapshotFile.digest();
            var header = kv.header(store.read(MvccStore::currentRevision));
            sha.update(head);
            remaining -= head.length;
            out.onNext(SnapshotResponse.newBuilder().setHeader(header).setRemainingBytes(remaining).setBlob(ByteString.copyFrom(head)).build());
            while (!snap.finished()) {
                while (!call.isReady()) {
                    if (call.isCancelled()) return;
                    Thread.sleep(5);
                }
                byte[] data = snap.nextChunk().data();
                sha.update(data);
                remaining -= data.length;
                out.onNext(SnapshotResponse.newBuilder().setHeader(header).setRemainingBytes(remaining)
                        .setBlob(ByteString.copyFrom(data)).build());
            }
            sha.update(padding);
            byte[] digest = sha.digest();
            remaining -= padding.length + digest.length;
            Assert.that(remaining == 0, "snapshot stream sent %d bytes more or less than announced", remaining);
            out.onNext(SnapshotResponse.newBuilder().setHeader(header).setRemainingBytes(0)
                    .setBlob(ByteString.copyFrom(padding).concat(ByteString.copyFrom(digest))).build());
            out.onCompleted();
            log.info("sent a snapshot at applied index {}", snap.appliedIndex());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.onError(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
        } catch (IOException | RuntimeException e) {
            log.warn("snapshot stream failed", e);
            if (!call.isCancelled()) out.onError(Status.INTERNAL.withDescription("synod: snapshot failed: " + e.getMessage()).asRuntimeException());
        } finally {
            snapshotPermits.release();
        }
    }

    // ---- etcd's errors ------------------------------------------------------------------------

    static StatusRuntimeException notLeader() {
        return Status.FAILED_PRECONDITION.withDescription("etcdserver: not leader").asRuntimeException();
    }

    static StatusRuntimeException badTransferee() {
        return Status.FAILED_PRECONDITION.withDescription("etcdserver: bad leader transferee").asRuntimeException();
    }

    /** etcd returns this one without a mapped gRPC code, so its clients see UNKNOWN with this text. */
    static StatusRuntimeException transferTimedOut() {
        return Status.UNKNOWN.withDescription("etcdserver: request timed out, leader transfer took too long").asRuntimeException();
    }

    // ---- plumbing -----------------------------------------------------------------------------

    private static <T> T await(java.util.concurrent.Future<T> f, long deadline) {
        try {
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw transferTimedOut();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ReplicaException r && r.kind() == ReplicaException.Kind.STOPPED) {
                throw Status.UNAVAILABLE.withDescription("etcdserver: server stopped").asRuntimeException();
            }
            throw Status.UNAVAILABLE.withDescription("synod: " + e.getCause().getMessage()).asRuntimeException();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
    }

    private static <R> void respond(StreamObserver<R> out, Supplier<R> body) {
        R response;
        try {
            response = body.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (MvccException e) {
            out.onError(EtcdProto.error(e.error()));
            return;
        } catch (RuntimeException e) {
            log.warn("maintenance request failed", e);
            out.onError(Status.INTERNAL.withDescription("synod: " + e).asRuntimeException());
            return;
        }
        out.onNext(response);
        out.onCompleted();
    }
}
