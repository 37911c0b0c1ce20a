package io.synod.server;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.synod.consensus.SoftState;
import io.synod.mvcc.Command;
import io.synod.mvcc.CommandCodec;
import io.synod.mvcc.MvccException;
import io.synod.mvcc.Response;
import io.synod.mvcc.Result;
import io.synod.replica.ReplicaDriver;
import io.synod.replica.ReplicaException;
import io.synod.server.transport.PeerProtocol;
import io.synod.server.transport.PeerTransport;
import java.util.concurrent.CompletableFuture;
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
 * The request path every etcd service shares: admission (a bound on requests in flight), deadlines,
 * error mapping to etcd's status codes, linearizable-read waits, and getting a write (or any
 * leader-only call) done by the leader. A write is encoded with {@link CommandCodec} and proposed
 * through Raft when this member leads; otherwise the original request is forwarded to the
 * leader's peer endpoint (etcd clients do not retry a failed put, so a member never answers "not
 * leader"), waiting through elections up to the request timeout.
 *
 * <p>A forwarded request is marked with a header, and a member that receives a forwarded request
 * but does not lead refuses it with a marked UNAVAILABLE instead of forwarding again, so two
 * members that disagree about the leader cannot bounce a request between them; the origin then
 * retries with its newer view of the leader. A forward that could not even connect (the leader
 * just died) is retried the same way until the request timeout. Other forwarding failures are
 * returned to the client unchanged: the write may or may not have happened, as when a leader fails.
 *
 * <p>Asynchronous path. The KV and lease keep-alive handlers use the {@code ...Async} methods: no
 * thread waits for a proposal, a read index or a forwarded call. The future the Raft loop
 * completes is continued right there (a write's reply is built and handed to gRPC on the loop
 * thread: it is small, and one thread wake-up per request less is what matters on a small
 * machine); a linearizable read's store access, which can be large, continues on a small read
 * pool instead. Deadlines are a timing wheel ({@link Deadlines}), retry backoff is a
 * delayed task, forwarding uses async stubs. The admission permit is held until the reply is
 * sent, so the in-flight bound means what it meant when each request held a thread. The
 * blocking methods remain for callers that must wait (lock and election, lease grant/revoke).
 */
final class Proposer {
    private static final Logger log = LoggerFactory.getLogger(Proposer.class);

    static final Metadata.Key<String> FORWARDED_HEADER = Metadata.Key.of("synod-forwarded", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> FORWARDED = Context.key("synod-forwarded");
    /** Description of the refusal a non-leader gives a forwarded request; the origin retries on it. */
    static final String NOT_LEADER_MARK = "synod: forwarded write reached a member that does not lead";

    /** A call that only the leader may serve; throws {@link ReplicaException} NOT_LEADER to make the caller retry. */
    @FunctionalInterface
    interface LeaderCall<R> {
        R call(long deadlineNanos) throws ReplicaException;
    }

    private final ServerConfig config;
    private final ReplicaDriver driver;
    private final CommandCodec codec;
    private final PeerTransport transport;
    private final WriteForwarder forwarder;
    private final long memberId;
    private final Semaphore inFlight;
    /** Runs ranges' store access (linearizable ones once their read index is applied): never on the Raft loop or a transport thread. */
    private final java.util.concurrent.ThreadPoolExecutor readPool;
    /** Runs retries after the backoff; a retry only starts non-blocking work, so the JDK's delay thread runs it inline. */
    private final java.util.concurrent.Executor retryExecutor;

    Proposer(ServerConfig config, ReplicaDriver driver, CommandCodec codec, PeerTransport transport) {
        this.config = config;
        this.driver = driver;
        this.codec = codec;
        this.transport = transport;
        this.memberId = config.memberId();
        this.forwarder = new WriteForwarder(memberId, driver, transport);
        this.inFlight = new Semaphore(config.requestsInFlightMax());
        int readers = Math.max(2, Runtime.getRuntime().availableProcessors());
        String name = "synod-read-" + config.name() + "-";
        var seq = new java.util.concurrent.atomic.AtomicInteger();
        // Daemon threads that end when idle: a stopped member leaves no thread behind, and no close() is needed.
        this.readPool = new java.util.concurrent.ThreadPoolExecutor(readers, readers, READ_THREAD_IDLE_SECONDS, TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    var t = new Thread(r, name + seq.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.readPool.allowCoreThreadTimeOut(true);
        this.retryExecutor = CompletableFuture.delayedExecutor(config.retryBackoffMillis(), TimeUnit.MILLISECONDS, Runnable::run);
    }

    /** How long an idle read thread lives. */
    static final long READ_THREAD_IDLE_SECONDS = 30;

    /**
     * The event loop of the transport thread this is called on (the thread that read the request,
     * for the inline calls), so that work continued there writes its reply without waking another
     * thread; {@code fallback} when called on any other thread.
     */
    static java.util.concurrent.Executor transportThreadOr(java.util.concurrent.Executor fallback) {
        java.util.concurrent.Executor loop = io.grpc.netty.shaded.io.netty.util.internal.ThreadExecutorMap.currentExecutor();
        return loop != null ? loop : fallback;
    }

    /** The executor on which ranges read the store (bounded threads: the reads are CPU work on this machine's cores). */
    java.util.concurrent.Executor readExecutor() {
        return readPool;
    }

    /** The peer-stream forwarding of writes; {@code SynodServer} hands it the forwarding messages its peer service receives. */
    WriteForwarder forwarder() {
        return forwarder;
    }

    ReplicaDriver driver() {
        return driver;
    }

    /**
     * Calls whose handlers never block (they only start work: propose, ask for a read index, start
     * a forward, decode a peer frame and queue it), by full method name. They run on the transport
     * (Netty event loop) thread that read them instead of being handed to the gRPC executor: one
     * thread wake-up per request less. Range is among them because its store read, which can be
     * long, is always handed to the read pool ({@link #readExecutor}); everything else that may wait
     * (lock, election, lease grant and revoke, watch, maintenance, snapshot transfer) keeps the executor.
     */
    static final java.util.Set<String> INLINE_METHODS = java.util.Set.of(
            "etcdserverpb.KV/Put", "etcdserverpb.KV/DeleteRange", "etcdserverpb.KV/Txn", "etcdserverpb.KV/Range",
            "etcdserverpb.Lease/LeaseKeepAlive", PeerProtocol.SERVICE + "/Stream");

    /**
     * The server's per-call executor choice, for a server whose default executor is direct:
     * {@link #INLINE_METHODS} stay on the transport thread that read them, the rest go to
     * {@link #HANDLERS}. Direct by default because gRPC runs each new call's method lookup on the
     * default executor before it consults this choice: with a thread pool there, every call, inline
     * or not, paid a thread hand-off (a profile of the put path: about 5% of a member's CPU in
     * that hand-off and the pool's idle threads waking).
     */
    static io.grpc.ServerCallExecutorSupplier inlineCalls() {
        return new io.grpc.ServerCallExecutorSupplier() {
            @Override
            public <Q, A> java.util.concurrent.Executor getExecutor(ServerCall<Q, A> call, Metadata metadata) {
                return INLINE_METHODS.contains(call.getMethodDescriptor().getFullMethodName()) ? null : HANDLERS;
            }
        };
    }

    /**
     * Runs the handlers that may wait (lock, election, lease grant, watch, maintenance, snapshot
     * transfer): a cached pool of daemon threads shared by the members of a JVM, as gRPC's own
     * default executor is. Its size is bounded by the calls admitted, not here.
     */
    static final java.util.concurrent.ExecutorService HANDLERS = java.util.concurrent.Executors.newCachedThreadPool(
            Thread.ofPlatform().name("synod-grpc-", 1).daemon().factory());

    private static final Context.Key<Boolean> PEER_LISTENER = Context.key("synod-peer-listener");

    /**
     * True when the current call was forwarded by another member (which admitted it already): it is
     * marked as forwarded and came in on the peer listener, where members forward to. The mark
     * alone is not trusted, since any client can send it to the client listener.
     */
    static boolean forwardedByMember() {
        return Boolean.TRUE.equals(FORWARDED.get()) && Boolean.TRUE.equals(PEER_LISTENER.get());
    }

    /** Marks every call of the server it is added to as one that arrived on the peer listener. */
    static ServerInterceptor peerListenerInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                return Contexts.interceptCall(Context.current().withValue(PEER_LISTENER, true), call, headers, next);
            }
        };
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

    /** Runs {@code body} under admission control and sends its result or its error, mapped to etcd's codes. */
    <R> void respond(StreamObserver<R> out, Supplier<R> body) {
        if (!inFlight.tryAcquire()) {
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException());
            return;
        }
        R response;
        try {
            response = body.get();
        } catch (RuntimeException e) {
            out.onError(toStatus(e));
            return;
        } finally {
            inFlight.release();
        }
        out.onNext(response);
        out.onCompleted();
    }

    /**
     * Like {@link #respond}, for a body that only starts the work: the admission permit is held
     * until the future completes, then the result or the mapped error is sent from the thread
     * that completed it.
     */
    <R> void respondAsync(StreamObserver<R> out, Supplier<CompletableFuture<R>> body) {
        if (!inFlight.tryAcquire()) {
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException());
            return;
        }
        CompletableFuture<R> f;
        try {
            f = body.get();
        } catch (RuntimeException e) {
            inFlight.release();
            out.onError(toStatus(e));
            return;
        }
        f.whenComplete((response, failure) -> {
            inFlight.release();
            if (failure == null) {
                out.onNext(response);
                out.onCompleted();
            } else {
                out.onError(toStatus(unwrap(failure)));
            }
        });
    }

    /** The failure inside a CompletableFuture's wrapper, as a RuntimeException ({@link #toStatus} maps it). */
    static RuntimeException unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ReplicaException r) return replicaError(r);
        if (t instanceof TimeoutException) return timedOut();
        if (t instanceof java.util.concurrent.CancellationException) return Status.CANCELLED.withDescription("synod: request cancelled").asRuntimeException();
        if (t instanceof RuntimeException r) return r;
        return new IllegalStateException("request failed", t);
    }

    /** The gRPC error a client sees for a failure on the request path. */
    static StatusRuntimeException toStatus(RuntimeException e) {
        if (e instanceof StatusRuntimeException s) return s;
        if (e instanceof MvccException m) return EtcdProto.error(m.error());
        log.warn("request failed", e);
        return Status.INTERNAL.withDescription("synod: " + e).asRuntimeException();
    }

    long deadlineNanos() {
        long timeout = TimeUnit.MILLISECONDS.toNanos(config.requestTimeoutMillis());
        var d = Context.current().getDeadline();
        if (d != null) timeout = Math.min(timeout, d.timeRemaining(TimeUnit.NANOSECONDS));
        return System.nanoTime() + timeout;
    }

    static StatusRuntimeException timedOut() {
        return Status.DEADLINE_EXCEEDED.withDescription("etcdserver: request timed out").asRuntimeException();
    }

    <T> T await(Future<T> f, long deadline) throws ReplicaException {
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
            if (e.getCause() instanceof StatusRuntimeException s) throw s;
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

    static StatusRuntimeException replicaError(ReplicaException e) {
        return switch (e.kind()) {
            case LEADER_CHANGED -> Status.UNAVAILABLE.withDescription("etcdserver: leader changed").asRuntimeException();
            case OVERLOADED -> Status.RESOURCE_EXHAUSTED.withDescription("etcdserver: too many requests").asRuntimeException();
            case STOPPED -> Status.UNAVAILABLE.withDescription("etcdserver: server stopped").asRuntimeException();
            case NOT_LEADER, READ_ABORTED -> Status.UNAVAILABLE.withDescription("etcdserver: no leader").asRuntimeException();
            case REJECTED -> Status.INVALID_ARGUMENT.withDescription("synod: " + e.getMessage()).asRuntimeException();
        };
    }

    /** Waits until this member has applied a read index obtained after the call arrived. */
    void awaitReadIndex(long deadline) {
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

    /**
     * Proposes {@code command} here if this member leads, else forwards the original request to
     * the leader: {@code forward} gets a channel to the leader that marks the call as forwarded
     * and carries the deadline, and {@code localize} adjusts the leader's reply (its header) to
     * this member.
     */
    <R> R write(Command command, Function<Channel, R> forward, Function<Response, R> convert, UnaryOperator<R> localize) {
        byte[] data = codec.encode(command);
        return onLeader(deadline -> convert.apply(outcome(await(driver.propose(data), deadline))), forward, localize);
    }

    /** A check the leader makes just before proposing; it refuses by throwing, else returns what to undo once the proposal is decided. */
    @FunctionalInterface
    interface LeaderAdmission {
        Claim claim();
    }

    /** What a {@link LeaderAdmission} reserved, released when the proposal it admitted is decided (or failed). */
    @FunctionalInterface
    interface Claim extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * {@link #write}, with {@code admit} checked on the leader (this member, or the one the request
     * is forwarded to) right before each attempt to propose, so a limit on replicated state is
     * enforced against the leader's view of it.
     */
    <R> R write(Command command, LeaderAdmission admit, Function<Channel, R> forward, Function<Response, R> convert,
            UnaryOperator<R> localize) {
        byte[] data = codec.encode(command);
        return onLeader(deadline -> {
            try (Claim claim = admit.claim()) {
                return convert.apply(outcome(await(driver.propose(data), deadline)));
            }
        }, forward, localize);
    }

    /** Runs {@code local} if this member leads, else forwards as {@link #write} does, until the deadline. */
    <R> R onLeader(LeaderCall<R> local, Function<Channel, R> forward, UnaryOperator<R> localize) {
        long deadline = deadlineNanos();
        boolean forwarded = forwardedByMember();
        while (true) {
            long leader = driver.leader();
            if (leader == memberId) {
                try {
                    return local.call(deadline);
                } catch (ReplicaException e) {
                    if (e.kind() != ReplicaException.Kind.NOT_LEADER) throw replicaError(e);
                }
            } else if (forwarded) {
                throw Status.UNAVAILABLE.withDescription(NOT_LEADER_MARK).asRuntimeException();
            } else if (leader != SoftState.NO_LEADER) {
                try {
                    return localize.apply(forward.apply(forwardingChannel(transport.channel(leader), deadline)));
                } catch (StatusRuntimeException e) {
                    if (!NOT_LEADER_MARK.equals(e.getStatus().getDescription()) && !neverSent(e)) throw e;
                }
            }
            backoff(deadline);
        }
    }

    /** {@code channel} with every call marked as forwarded and bounded by {@code deadline}. */
    private static Channel forwardingChannel(Channel channel, long deadline) {
        return ClientInterceptors.intercept(channel, new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                CallOptions bounded = options.withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, bounded)) {
                    @Override
                    public void start(Listener<A> listener, Metadata headers) {
                        headers.put(FORWARDED_HEADER, "1");
                        super.start(listener, headers);
                    }
                };
            }
        });
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

    // ---- the asynchronous path -------------------------------------------------------------------

    /** {@code f}, failed with DEADLINE_EXCEEDED ("etcdserver: request timed out") if it is not done by {@code deadline}. */
    static <T> CompletableFuture<T> within(CompletableFuture<T> f, long deadline) {
        // The wheel completes the driver's own future: the loop's later completion of it is then a no-op, as a cancel was.
        return Deadlines.REQUESTS.within(f, deadline);
    }

    /** The cause of a failed stage, unwrapped but not yet mapped to a status. */
    static Throwable cause(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Schedules {@code again} after the retry backoff, or fails {@code result} with a timeout if that would pass the deadline. */
    private void retryLater(CompletableFuture<?> result, long deadline, Runnable again) {
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.retryBackoffMillis()) >= deadline) {
            result.completeExceptionally(timedOut());
            return;
        }
        retryExecutor.execute(again);
    }

    /**
     * Completes once this member has applied a read index obtained after the call; retries through
     * elections until the deadline. The caller must hold no lock (see {@link #writeAsync}).
     */
    CompletableFuture<Void> readIndexAsync(long deadline) {
        var result = new CompletableFuture<Void>();
        readAttempt(result, deadline);
        return result;
    }

    private void readAttempt(CompletableFuture<Void> result, long deadline) {
        within(driver.readIndex(ReplicaDriver.Handoff.RUN_HERE), deadline).whenComplete((index, failure) -> {
            if (failure == null) {
                result.complete(null);
                return;
            }
            Throwable c = cause(failure);
            if (c instanceof ReplicaException e && (e.kind() == ReplicaException.Kind.NOT_LEADER || e.kind() == ReplicaException.Kind.READ_ABORTED)) {
                retryLater(result, deadline, () -> readAttempt(result, deadline));
            } else {
                result.completeExceptionally(unwrap(c));
            }
        });
    }

    /**
     * {@link #write} without a waiting thread. On the leader the command is proposed here; on a
     * follower it goes to the leader inside the peer stream ({@link WriteForwarder}) and the reply
     * comes from this member's own apply of the entry. {@code convert} runs on the thread that
     * applied the entry (keep it cheap). A request that itself arrived forwarded by gRPC (from the
     * blocking {@link #write}) is refused with {@link #NOT_LEADER_MARK} if this member does not lead.
     * The caller must hold no lock: when the Raft loop is idle, this thread runs the proposal
     * through it ({@link ReplicaDriver.Handoff#RUN_HERE}), applying entries on the way.
     */
    <R> CompletableFuture<R> writeAsync(Command command, Function<Response, R> convert) {
        byte[] data = codec.encode(command);
        return onLeaderAsync(() -> driver.propose(data, ReplicaDriver.Handoff.RUN_HERE), leader -> forwarder.propose(leader, data))
                .thenApply(res -> convert.apply(outcome(res)));
    }

    /**
     * Runs {@code local} if this member leads, else {@code remote} with the leader's id (a request
     * through the peer stream); after a NOT_LEADER failure (an election, a refusal, a request that
     * never left) it tries again, with whoever leads then, until the request's deadline. A request
     * that itself arrived forwarded by gRPC is refused with {@link #NOT_LEADER_MARK} if this member
     * does not lead. The caller must hold no lock (see {@link #writeAsync}).
     */
    <R> CompletableFuture<R> onLeaderAsync(java.util.function.Supplier<CompletableFuture<R>> local,
            java.util.function.LongFunction<CompletableFuture<R>> remote) {
        long deadline = deadlineNanos(); // reads the gRPC context: on the handler's thread
        boolean forwarded = forwardedByMember();
        var result = new CompletableFuture<R>();
        leaderAttempt(result, local, remote, deadline, forwarded);
        return result;
    }

    private <R> void leaderAttempt(CompletableFuture<R> result, java.util.function.Supplier<CompletableFuture<R>> local,
            java.util.function.LongFunction<CompletableFuture<R>> remote, long deadline, boolean forwarded) {
        try {
            long leader = driver.leader();
            CompletableFuture<R> attempt;
            if (leader == memberId) {
                attempt = local.get();
            } else if (forwarded) {
                result.completeExceptionally(Status.UNAVAILABLE.withDescription(NOT_LEADER_MARK).asRuntimeException());
                return;
            } else if (leader != SoftState.NO_LEADER && forwarder.canForwardTo(leader)) {
                attempt = remote.apply(leader);
            } else {
                retryLater(result, deadline, () -> leaderAttempt(result, local, remote, deadline, forwarded));
                return;
            }
            within(attempt, deadline).whenComplete((res, failure) -> {
                if (failure == null) {
                    result.complete(res);
                    return;
                }
                Throwable c = cause(failure);
                if (c instanceof ReplicaException e && e.kind() == ReplicaException.Kind.NOT_LEADER) {
                    retryLater(result, deadline, () -> leaderAttempt(result, local, remote, deadline, forwarded));
                } else {
                    result.completeExceptionally(unwrap(c));
                }
            });
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    static Response outcome(Object result) {
        return switch ((Result) result) {
            case Result.Applied a -> a.response();
            case Result.Rejected r -> throw EtcdProto.error(r.error());
            case Result.AlreadyApplied a -> throw new IllegalStateException("proposal applied twice at " + a.appliedIndex());
        };
    }
}
