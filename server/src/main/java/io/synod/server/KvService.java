package io.synod.server;

import io.etcd.jetcd.api.CompactionRequest;
import io.etcd.jetcd.api.CompactionResponse;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.SoftState;
import io.synod.mvcc.Command;
import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.CompactRequest;
import io.synod.mvcc.CompactResponse;
import io.synod.mvcc.DeleteRangeResponse;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccException;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutResponse;
import io.synod.mvcc.RangeRequest;
import io.synod.mvcc.Requests;
import io.synod.mvcc.Response;
import io.synod.mvcc.Result;
import io.synod.mvcc.TxnResponse;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaException;
import io.synod.server.transport.PeerTransport;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's KV service (Range, Put, DeleteRange, Txn, Compact) on top of the replica and the MVCC
 * store. Writes are encoded with {@link CommandCodec} and proposed through Raft; on a follower
 * they are forwarded to the leader's peer endpoint (etcd clients do not retry a failed put, so a
 * member never answers "not leader"), waiting through elections up to the request timeout.
 * Linearizable ranges wait for a ReadIndex to be applied locally; serializable ones are served
 * from the local store at once. Every response carries etcd's header (cluster id, member id,
 * revision, raft term).
 *
 * <p>A forwarded request is marked with a header, and a member that receives a forwarded request
 * but does not lead refuses it with a marked UNAVAILABLE instead of forwarding again, so two
 * members that disagree about the leader cannot bounce a request between them; the origin then
 * retries with its newer view of the leader. A forward that could not even connect (the leader
 * just died) is retried the same way until the request timeout. Other forwarding failures are
 * returned to the client unchanged: the write may or may not have happened, as when a leader fails.
 */
final class KvService extends KVGrpc.KVImplBase {
    private static final Logger log = LoggerFactory.getLogger(KvService.class);

    static final Metadata.Key<String> FORWARDED_HEADER = Metadata.Key.of("synod-forwarded", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> FORWARDED = Context.key("synod-forwarded");
    /** Description of the refusal a non-leader gives a forwarded write; the origin retries on it. */
    static final String NOT_LEADER_MARK = "synod: forwarded write reached a member that does not lead";

    private final ServerConfig config;
    private final ReplicaDriver driver;
    private final StoreHolder store;
    private final MvccOptions mvccOptions;
    private final CommandCodec codec;
    private final PeerTransport transport;
    private final long memberId;
    private final long clusterId;
    private final Semaphore inFlight;

    KvService(ServerConfig config, ReplicaDriver driver, StoreHolder store, CommandCodec codec, PeerTransport transport) {
        this.config = config;
        this.driver = driver;
        this.store = store;
        this.mvccOptions = store.read(MvccStore::options);
        this.codec = codec;
        this.transport = transport;
        this.memberId = config.memberId();
        this.clusterId = config.clusterId();
        this.inFlight = new Semaphore(config.requestsInFlightMax());
    }

    /** Copies the forwarded marker from request metadata into the call's context. */
    static ServerInterceptor forwardedInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                boolean forwarded = headers.containsKey(FORWARDED_HEADER);
                return Contexts.interceptCall(Context.current().withValue(FORWARDED, forwarded), call, headers, next);
            }
        };
    }

    /** A forwarded reply's header as this member reports it: the leader's revision, our ids and term. */
    private ResponseHeader localHeader(ResponseHeader fromLeader) {
        return fromLeader.toBuilder().setMemberId(memberId).setRaftTerm(Math.max(fromLeader.getRaftTerm(), driver.term())).build();
    }

    ResponseHeader header(long revision) {
        return ResponseHeader.newBuilder().setClusterId(clusterId).setMemberId(memberId).setRevision(revision)
                .setRaftTerm(driver.term()).build();
    }

    // ---- the five calls -------------------------------------------------------------------------

    @Override
    public void range(io.etcd.jetcd.api.RangeRequest request, StreamObserver<io.etcd.jetcd.api.RangeResponse> out) {
        respond(out, () -> {
            RangeRequest r = EtcdProto.range(request);
            check(Requests.checkRange(r));
            if (!r.serializable()) awaitReadIndex(deadlineNanos());
            return EtcdProto.range(store.read(s -> s.range(r)), this::header);
        });
    }

    @Override
    public void put(io.etcd.jetcd.api.PutRequest request, StreamObserver<io.etcd.jetcd.api.PutResponse> out) {
        respond(out, () -> {
            var p = EtcdProto.put(request);
            check(Requests.checkPut(p));
            return write(p, stub -> stub.put(request), res -> EtcdProto.put((PutResponse) res, this::header),
                    r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build());
        });
    }

    @Override
    public void deleteRange(io.etcd.jetcd.api.DeleteRangeRequest request, StreamObserver<io.etcd.jetcd.api.DeleteRangeResponse> out) {
        respond(out, () -> {
            var d = EtcdProto.delete(request);
            if (d.key().isEmpty()) throw EtcdProto.error(MvccError.EMPTY_KEY);
            return write(d, stub -> stub.deleteRange(request), res -> EtcdProto.delete((DeleteRangeResponse) res, this::header),
                    r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build());
        });
    }

    @Override
    public void txn(io.etcd.jetcd.api.TxnRequest request, StreamObserver<io.etcd.jetcd.api.TxnResponse> out) {
        respond(out, () -> {
            var t = EtcdProto.txn(request);
            check(Requests.checkTxn(t, mvccOptions));
            return write(t, stub -> stub.txn(request), res -> EtcdProto.txn((TxnResponse) res, this::header),
                    r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build());
        });
    }

    @Override
    public void compact(CompactionRequest request, StreamObserver<CompactionResponse> out) {
        respond(out, () -> write(new CompactRequest(request.getRevision()), stub -> stub.compact(request), res -> {
            if (request.getPhysical()) {
                // etcd returns a physical compaction only once old versions are gone from this member.
                while (store.read(MvccStore::runCompactionStep)) {
                    if (Context.current().isCancelled()) break;
                }
            }
            return EtcdProto.compact((CompactResponse) res, this::header);
        }, r -> r.toBuilder().setHeader(localHeader(r.getHeader())).build()));
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private static void check(Optional<MvccError> error) {
        if (error.isPresent()) throw EtcdProto.error(error.get());
    }

    private <R> void respond(StreamObserver<R> out, Supplier<R> body) {
        if (!inFlight.tryAcquire()) {
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException());
            return;
        }
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
            log.warn("request failed", e);
            out.onError(Status.INTERNAL.withDescription("synod: " + e).asRuntimeException());
            return;
        } finally {
            inFlight.release();
        }
        out.onNext(response);
        out.onCompleted();
    }

    private long deadlineNanos() {
        long timeout = TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMillis());
        var d = Context.current().getDeadline();
        if (d != null) timeout = Math.min(timeout, d.timeRemaining(TimeUnit.NANOSECONDS));
        return System.nanoTime() + timeout;
    }

    private static StatusRuntimeException timedOut() {
        return Status.DEADLINE_EXCEEDED.withDescription("etcdserver: request timed out").asRuntimeException();
    }

    private <T> T await(Future<T> f, long deadline) throws ReplicaException {
        try {
            return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw timedOut();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ReplicaException r) throw r;
            throw new IllegalStateException("replica failed", e.getCause());
        }
    }

    private void backoff(long deadline) {
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.retryBackoffMillis()) >= deadline) throw timedOut();
        try {
            Thread.sleep(config.retryBackoffMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
    }

    private static StatusRuntimeException replicaError(ReplicaException e) {
        return switch (e.kind()) {
            case LEADER_CHANGED -> Status.UNAVAILABLE.withDescription("etcdserver: leader changed").asRuntimeException();
            case OVERLOADED -> Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException();
            case STOPPED -> Status.UNAVAILABLE.withDescription("etcdserver: server stopped").asRuntimeException();
            case NOT_LEADER, READ_ABORTED -> Status.UNAVAILABLE.withDescription("etcdserver: no leader").asRuntimeException();
            case REJECTED -> Status.INVALID_ARGUMENT.withDescription("synod: " + e.getMessage()).asRuntimeException();
        };
    }

    /** Waits until this member has applied a read index obtained after the call arrived. */
    private void awaitReadIndex(long deadline) {
        while (true) {
            try {
                await(driver.readIndex(), deadline);
                return;
            } catch (ReplicaException e) {
                if (e.kind() != ReplicaException.Kind.NOT_LEADER && e.kind() != ReplicaException.Kind.READ_ABORTED) throw replicaError(e);
                backoff(deadline);
            }
        }
    }

    /** Proposes {@code command} here if this member leads, else forwards the original request to the leader. */
    private <R> R write(Command command, Function<KVGrpc.KVBlockingStub, R> forward, Function<Response, R> convert,
            UnaryOperator<R> localize) {
        long deadline = deadlineNanos();
        byte[] data = codec.encode(command);
        boolean forwarded = Boolean.TRUE.equals(FORWARDED.get());
        while (true) {
            long leader = driver.leader();
            if (leader == memberId) {
                try {
                    return convert.apply(outcome(await(driver.propose(data), deadline)));
                } catch (ReplicaException e) {
                    if (e.kind() != ReplicaException.Kind.NOT_LEADER) throw replicaError(e);
                }
            } else if (forwarded) {
                throw Status.UNAVAILABLE.withDescription(NOT_LEADER_MARK).asRuntimeException();
            } else if (leader != SoftState.NO_LEADER) {
                try {
                    return localize.apply(forward.apply(KVGrpc.newBlockingStub(transport.channel(leader))
                            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forwardedMetadata()))
                            .withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)));
                } catch (StatusRuntimeException e) {
                    if (!NOT_LEADER_MARK.equals(e.getStatus().getDescription()) && !neverSent(e)) throw e;
                }
            }
            backoff(deadline);
        }
    }

    /**
     * True when the forwarding call failed to connect at all, so the leader cannot have seen the
     * request and retrying (typically with the next leader, once elected) cannot apply it twice.
     * Any other failure may have happened after the leader proposed the write.
     */
    static boolean neverSent(StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) return false;
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) return true;
        }
        return false;
    }

    private static Metadata forwardedMetadata() {
        var m = new Metadata();
        m.put(FORWARDED_HEADER, "1");
        return m;
    }

    private static Response outcome(Object result) {
        return switch ((Result) result) {
            case Result.Applied a -> a.response();
            case Result.Rejected r -> throw EtcdProto.error(r.error());
            case Result.AlreadyApplied a -> throw new IllegalStateException("proposal applied twice at " + a.appliedIndex());
        };
    }
}
