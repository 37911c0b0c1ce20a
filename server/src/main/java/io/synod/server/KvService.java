package io.synod.server;

import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.CompactRequest;
import io.synod.mvcc.CompactResponse;
import io.synod.mvcc.DeleteRangeResponse;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutResponse;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.Requests;
import io.synod.mvcc.TxnResponse;
import io.synod.replica.ReplicaDriver;
import java.util.Optional;

/**
 * etcd's KV service (Range, Put, DeleteRange, Txn, Compact) on top of the replica and the MVCC
 * store. Writes go through the {@link Proposer} (proposed here when this member leads, forwarded
 * to the leader otherwise). Linearizable ranges wait for a ReadIndex to be applied locally;
 * serializable ones are served from the local store at once. Every response carries etcd's
 * header (cluster id, member id, revision, raft term). Ranges that may return many keys, and txns
 * containing one, are admitted by {@link ExpensiveRequests} first; a range may read at most
 * {@code --synod-range-response-bytes-max} bytes.
 */
final class KvService extends KVGrpc.KVImplBase {
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final MvccOptions mvccOptions;
    private final Proposer proposer;
    private final long memberId;
    private final long clusterId;
    private final ExpensiveRequests expensive;
    private final long rangeBytesMax;

    KvService(ServerConfig config, Proposer proposer, StoreHolder store) {
        this.driver = proposer.driver();
        this.proposer = proposer;
        this.store = store;
        this.mvccOptions = store.read(MvccStore::options);
        this.memberId = config.memberId();
        this.clusterId = config.clusterId();
        ClientLimits limits = config.limits().clients();
        this.expensive = new ExpensiveRequests(limits.expensiveRequestsMax(), limits.expensiveRequestsQueueMax());
        this.rangeBytesMax = limits.rangeResponseBytesMax();
    }

    /** The admission of large ranges and txns containing one (for tests and metrics). */
    ExpensiveRequests expensiveRequests() {
        return expensive;
    }

    /** A forwarded reply's header as this member reports it: the leader's revision, our ids and term. */
    ResponseHeader localHeader(ResponseHeader fromLeader) {
        return fromLeader.toBuilder().setMemberId(memberId).setRaftTerm(Math.max(fromLeader.getRaftTerm(), driver.term())).build();
    }

    ResponseHeader header(long revision) {
        long term = driver.term();
        ResponseHeader last = lastHeader;
        // Many replies in a row carry the same revision (a watch event sent to every watcher, reads between writes).
        if (last != null && last.getRevision() == revision && last.getRaftTerm() == term) return last;
        ResponseHeader h = ResponseHeader.newBuilder().setClusterId(clusterId).setMemberId(memberId).setRevision(revision)
                .setRaftTerm(term).build();
        lastHeader = h;
        return h;
    }

    /** The header built last; immutable, so sharing it between threads is safe. */
    private volatile ResponseHeader lastHeader;

    // ---- the five calls -------------------------------------------------------------------------

    // No thread waits: the handler starts the work and returns (see Proposer's asynchronous path).

    @Override
    public void range(io.etcd.jetcd.api.RangeRequest request, StreamObserver<io.etcd.jetcd.api.RangeResponse> out) {
        if (ExpensiveRequests.expensive(request)) {
            admitted(out, () -> rangeAsync(request));
        } else {
            proposer.respondAsync(out, () -> rangeAsync(request));
        }
    }

    /**
     * Serves an expensive request once {@link ExpensiveRequests} admits it; the permit is held until
     * the call ends, that is until the response has been sent (or the client gave up), so that the
     * bytes of at most that many large responses wait in this member's buffers. Requests forwarded
     * by another member were admitted there and are not counted again.
     */
    private <R> void admitted(StreamObserver<R> out, java.util.function.Supplier<java.util.concurrent.CompletableFuture<R>> body) {
        if (Proposer.forwardedByMember()) {
            proposer.respondAsync(out, body);
            return;
        }
        var call = (io.grpc.stub.ServerCallStreamObserver<R>) out;
        var ticket = expensive.ticket();
        call.setOnCloseHandler(ticket::close);
        call.setOnCancelHandler(ticket::close);
        Context context = Context.current(); // the body reads the call's deadline from it, possibly on the thread that frees a permit
        proposer.respondAsync(out, () -> ticket.enter(proposer.deadlineNanos()).thenCompose(v -> {
            Context previous = context.attach();
            try {
                return body.get();
            } finally {
                context.detach(previous);
            }
        }));
    }

    @Override
    public void put(io.etcd.jetcd.api.PutRequest request, StreamObserver<io.etcd.jetcd.api.PutResponse> out) {
        proposer.respondAsync(out, () -> {
            var p = EtcdProto.put(request);
            check(Requests.checkPut(p));
            return proposer.writeAsync(p, res -> EtcdProto.put((PutResponse) res, this::header));
        });
    }

    @Override
    public void deleteRange(io.etcd.jetcd.api.DeleteRangeRequest request, StreamObserver<io.etcd.jetcd.api.DeleteRangeResponse> out) {
        proposer.respondAsync(out, () -> {
            var d = EtcdProto.delete(request);
            if (d.key().isEmpty()) throw EtcdProto.error(MvccError.EMPTY_KEY);
            return proposer.writeAsync(d, res -> EtcdProto.delete((DeleteRangeResponse) res, this::header));
        });
    }

    @Override
    public void txn(io.etcd.jetcd.api.TxnRequest request, StreamObserver<io.etcd.jetcd.api.TxnResponse> out) {
        java.util.function.Supplier<java.util.concurrent.CompletableFuture<io.etcd.jetcd.api.TxnResponse>> body = () -> {
            var t = EtcdProto.txn(request);
            check(Requests.checkTxn(t, mvccOptions));
            return proposer.writeAsync(t, res -> EtcdProto.txn((TxnResponse) res, this::header));
        };
        if (ExpensiveRequests.expensive(request)) {
            admitted(out, body);
        } else {
            proposer.respondAsync(out, body);
        }
    }

    /**
     * A range's store read always runs on the read pool: at once for a serializable one, once a
     * read index is applied for a linearizable one. The handler itself runs on the transport thread
     * ({@link Proposer#INLINE_METHODS}), which must not wait for the store.
     */
    private java.util.concurrent.CompletableFuture<io.etcd.jetcd.api.RangeResponse> rangeAsync(io.etcd.jetcd.api.RangeRequest request) {
        RangeRequest r = EtcdProto.range(request);
        check(Requests.checkRange(r));
        // A single key's read is short: it runs on the transport thread that read the request (at once when
        // serializable, once the read index is applied when linearizable), which then writes the reply without
        // another thread's wake-up. Ranges over many keys, whose reads can be long, go to the read pool, and so
        // does a point read while a write holds the store (the transport thread serves other calls meanwhile).
        boolean point = request.getRangeEnd().isEmpty();
        if (r.serializable()) {
            if (point && !store.writing()) {
                try {
                    return java.util.concurrent.CompletableFuture.completedFuture(EtcdProto.range(store.read(s -> s.range(r, rangeBytesMax)), this::header));
                } catch (RuntimeException e) {
                    return java.util.concurrent.CompletableFuture.failedFuture(e);
                }
            }
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> EtcdProto.range(store.read(s -> s.range(r, rangeBytesMax)), this::header),
                    proposer.readExecutor());
        }
        java.util.concurrent.Executor pool = proposer.readExecutor();
        java.util.concurrent.Executor transport = point ? Proposer.transportThreadOr(pool) : pool;
        return proposer.readIndexAsync(proposer.deadlineNanos())
                .thenApplyAsync(v -> EtcdProto.range(store.read(s -> s.range(r, rangeBytesMax)), this::header),
                        store.unlessWriting(transport, pool));
    }

    // ---- the same calls for other services built on KV (lock, election), blocking, errors thrown ----
    // They wait on the calling thread, which lock and election handlers do anyway (a lock wait can be long).

    io.etcd.jetcd.api.RangeResponse range(io.etcd.jetcd.api.RangeRequest request) {
        RangeRequest r = EtcdProto.range(request);
        check(Requests.checkRange(r));
        if (!r.serializable()) proposer.awaitReadIndex(proposer.deadlineNanos());
        return EtcdProto.range(store.read(s -> s.range(r)), this::header);
    }

    io.etcd.jetcd.api.PutResponse put(io.etcd.jetcd.api.PutRequest request) {
        var p = EtcdProto.put(request);
        check(Requests.checkPut(p));
        return proposer.write(p, ch -> KVGrpc.newBlockingStub(ch).put(request), res -> EtcdProto.put((PutResponse) res, this::header),
                r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build());
    }

    io.etcd.jetcd.api.DeleteRangeResponse deleteRange(io.etcd.jetcd.api.DeleteRangeRequest request) {
        var d = EtcdProto.delete(request);
        if (d.key().isEmpty()) throw EtcdProto.error(MvccError.EMPTY_KEY);
        return proposer.write(d, ch -> KVGrpc.newBlockingStub(ch).deleteRange(request),
                res -> EtcdProto.delete((DeleteRangeResponse) res, this::header),
                r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build());
    }

    io.etcd.jetcd.api.TxnResponse txn(io.etcd.jetcd.api.TxnRequest request) {
        var t = EtcdProto.txn(request);
        check(Requests.checkTxn(t, mvccOptions));
        return proposer.write(t, ch -> KVGrpc.newBlockingStub(ch).txn(request), res -> EtcdProto.txn((TxnResponse) res, this::header),
                r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build());
    }

    @Override
    public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
        proposer.respond(out, () -> proposer.write(new CompactRequest(request.getRevision()), ch -> KVGrpc.newBlockingStub(ch).compact(request),
                res -> {
                    if (request.getPhysical()) {
                        // etcd returns a physical compaction only once old versions are gone from this member.
                        while (store.read(MvccStore::runCompactionStep)) {
                            if (Context.current().isCancelled()) break;
                        }
                    }
                    return EtcdProto.compact((CompactResponse) res, this::header);
                }, r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build()));
    }

    private static void check(Optional<MvccError> error) {
        if (error.isPresent()) throw EtcdProto.error(error.get());
    }
}
