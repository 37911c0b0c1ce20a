package io.synod.server;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.CampaignRequest;
import io.etcd.jetcd.api.CampaignResponse;
import io.etcd.jetcd.api.Compare;
import io.etcd.jetcd.api.DeleteRangeRequest;
import io.etcd.jetcd.api.ElectionGrpc;
import io.etcd.jetcd.api.KeyValue;
import io.etcd.jetcd.api.LeaderKey;
import io.etcd.jetcd.api.LeaderRequest;
import io.etcd.jetcd.api.LeaderResponse;
import io.etcd.jetcd.api.ProclaimRequest;
import io.etcd.jetcd.api.ProclaimResponse;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.ResignRequest;
import io.etcd.jetcd.api.ResignResponse;
import io.etcd.jetcd.api.TxnRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.MvccError;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * etcd's server-side election ({@code v3electionpb.Election}). A campaign joins the
 * {@link KeyQueue} for the election name with the candidate's value and returns, as the leader
 * key (name, key, create revision, lease), once every earlier candidate is gone. Proclaim and
 * Resign act only if the leader key's create revision still matches, so a deposed leader (its lease
 * expired) cannot overwrite or delete a successor's key. Leader and Observe report the candidate
 * with the smallest create revision; Observe streams each change of leader or of its value.
 *
 * <p>Errors as etcd's: "election: no leader", "election: not leader", and the missing leader key.
 */
final class ElectionService extends ElectionGrpc.ElectionImplBase {
    static final String NO_LEADER = "election: no leader";
    static final String NOT_LEADER = "election: not leader";
    static final String MISSING_LEADER = "\"leader\" field must be provided";

    private final Proposer proposer;
    private final KvService kv;
    private final KeyQueue queue;
    private final KeyWaiters waiters;

    ElectionService(Proposer proposer, KvService kv, KeyQueue queue, KeyWaiters waiters) {
        this.proposer = proposer;
        this.kv = kv;
        this.queue = queue;
        this.waiters = waiters;
    }

    private static StatusRuntimeException error(String description) {
        return Status.UNKNOWN.withDescription(description).asRuntimeException();
    }

    @Override
    public void campaign(CampaignRequest request, StreamObserver<CampaignResponse> out) {
        // A campaign may wait arbitrarily long, so it is not counted against the in-flight bound.
        try {
            out.onNext(campaign(request));
            out.onCompleted();
        } catch (RuntimeException e) {
            out.onError(Proposer.toStatus(e));
        }
    }

    private CampaignResponse campaign(CampaignRequest request) {
        if (request.getName().isEmpty()) throw EtcdProto.error(MvccError.EMPTY_KEY);
        if (request.getLease() == 0) {
            throw Status.INVALID_ARGUMENT.withDescription("synod: a campaign must be tied to a lease (lease 0 given)").asRuntimeException();
        }
        KeyQueue.Entry me = queue.join(request.getName(), request.getLease(), request.getValue());
        LeaderKey leader = LeaderKey.newBuilder().setName(request.getName()).setKey(me.key()).setRev(me.createRevision())
                .setLease(request.getLease()).build();
        try {
            // Re-campaigning with the same lease keeps the place in line but takes the new value, as etcd does.
            if (!me.created() && !me.kv().getValue().equals(request.getValue())) proclaim(leader, request.getValue());
            queue.awaitTurn(request.getName(), me.createRevision());
            if (queue.current(me).isEmpty()) throw EtcdProto.error(MvccError.LEASE_NOT_FOUND);
        } catch (RuntimeException e) {
            if (me.created()) resignQuietly(leader);
            throw e;
        }
        return CampaignResponse.newBuilder().setHeader(kv.header(me.createRevision())).setLeader(leader).build();
    }

    private void resignQuietly(LeaderKey leader) {
        try {
            resign(leader);
        } catch (StatusRuntimeException ignored) {
            // Best effort: the key goes anyway when its lease does.
        }
    }

    /** Puts {@code value} on the leader key if it is still the same incarnation; returns the txn's header revision. */
    private io.etcd.jetcd.api.ResponseHeader proclaim(LeaderKey leader, ByteString value) {
        var r = kv.txn(TxnRequest.newBuilder()
                .addCompare(sameIncarnation(leader))
                .addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(leader.getKey()).setValue(value).setIgnoreLease(true)))
                .build());
        if (!r.getSucceeded()) throw error(NOT_LEADER);
        return r.getHeader();
    }

    private io.etcd.jetcd.api.ResponseHeader resign(LeaderKey leader) {
        var r = kv.txn(TxnRequest.newBuilder()
                .addCompare(sameIncarnation(leader))
                .addSuccess(RequestOp.newBuilder().setRequestDeleteRange(DeleteRangeRequest.newBuilder().setKey(leader.getKey())))
                .build());
        return r.getHeader();
    }

    private static Compare sameIncarnation(LeaderKey leader) {
        return Compare.newBuilder().setKey(leader.getKey()).setTarget(Compare.CompareTarget.CREATE).setResult(Compare.CompareResult.EQUAL)
                .setCreateRevision(leader.getRev()).build();
    }

    @Override
    public void proclaim(ProclaimRequest request, StreamObserver<ProclaimResponse> out) {
        proposer.respond(out, () -> {
            if (!request.hasLeader()) throw error(MISSING_LEADER);
            return ProclaimResponse.newBuilder().setHeader(proclaim(request.getLeader(), request.getValue())).build();
        });
    }

    @Override
    public void resign(ResignRequest request, StreamObserver<ResignResponse> out) {
        proposer.respond(out, () -> {
            if (!request.hasLeader()) throw error(MISSING_LEADER);
            return ResignResponse.newBuilder().setHeader(resign(request.getLeader())).build();
        });
    }

    @Override
    public void leader(LeaderRequest request, StreamObserver<LeaderResponse> out) {
        proposer.respond(out, () -> {
            KeyValue head = queue.head(request.getName()).orElseThrow(() -> error(NO_LEADER));
            return LeaderResponse.newBuilder().setHeader(kv.header(head.getModRevision())).setKv(head).build();
        });
    }

    @Override
    public void observe(LeaderRequest request, StreamObserver<LeaderResponse> out) {
        var call = (ServerCallStreamObserver<LeaderResponse>) out;
        ByteString p = KeyQueue.prefix(request.getName());
        var changed = new Semaphore(1); // one permit: read the leader at once
        Context ctx = Context.current();
        try (AutoCloseable sub = waiters.subscribe(EtcdProto.bytes(p), EtcdProto.bytes(KeyQueue.prefixEnd(p)), changed::release)) {
            Optional<KeyValue> last = Optional.empty();
            while (!ctx.isCancelled() && !call.isCancelled()) {
                if (!changed.tryAcquire(200, TimeUnit.MILLISECONDS)) continue;
                changed.drainPermits();
                Optional<KeyValue> head = queue.head(request.getName());
                if (head.isEmpty() || head.equals(last)) continue;
                last = head;
                out.onNext(LeaderResponse.newBuilder().setHeader(kv.header(head.get().getModRevision())).setKv(head.get()).build());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            out.onError(Proposer.toStatus(e));
        } catch (Exception e) {
            out.onError(Status.INTERNAL.withCause(e).asRuntimeException());
        }
    }
}
