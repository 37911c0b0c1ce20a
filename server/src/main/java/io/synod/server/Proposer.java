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
import io.synod.server.transport.PeerTransport;
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
    private final long memberId;
    private final Semaphore inFlight;

    Proposer(ServerConfig config, ReplicaDriver driver, CommandCodec codec, PeerTransport transport) {
        this.config = config;
        this.driver = driver;
        this.codec = codec;
        this.transport = transport;
        this.memberId = config.memberId();
        this.inFlight = new Semaphore(config.requestsInFlightMax());
    }

    ReplicaDriver driver() {
        return driver;
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

    /** Runs {@code local} if this member leads, else forwards as {@link #write} does, until the deadline. */
    <R> R onLeader(LeaderCall<R> local, Function<Channel, R> forward, UnaryOperator<R> localize) {
        long deadline = deadlineNanos();
        boolean forwarded = Boolean.TRUE.equals(FORWARDED.get());
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

    static Response outcome(Object result) {
        return switch ((Result) result) {
            case Result.Applied a -> a.response();
            case Result.Rejected r -> throw EtcdProto.error(r.error());
            case Result.AlreadyApplied a -> throw new IllegalStateException("proposal applied twice at " + a.appliedIndex());
        };
    }
}
