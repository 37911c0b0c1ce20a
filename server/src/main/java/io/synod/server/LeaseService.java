package io.synod.server;

import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrantResponse;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseRevokeResponse;
import io.etcd.jetcd.api.LeaseTimeToLiveRequest;
import io.etcd.jetcd.api.LeaseTimeToLiveResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.Lease;
import io.synod.mvcc.LeaseCommand;
import io.synod.mvcc.LeaseResponse;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.MvccStore;
import io.synod.replica.ReplicaDriver;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * etcd's Lease service. Grant and revoke are replicated commands; followers forward them to the
 * leader like writes. A keep-alive is made by the leader ({@link KeepAlives}: mostly on its clock
 * after a ReadIndex, through the log when that would not survive a change of leader); a follower
 * forwards it in the peer stream. Time-to-live is answered by the leader from its {@link Lessor}; the lease list is a
 * linearizable read of the replicated state.
 *
 * <p>As in etcd: a TTL below the minimum (one and a half election timeouts, whole seconds) is
 * raised to it, a TTL above {@link Lease#MAX_TTL_SECONDS} is refused, ID 0 asks the server to
 * pick an ID, a keep-alive of an unknown lease answers TTL 0 and a time-to-live of one answers
 * TTL -1.
 *
 * <p>The number of leases is bounded by {@code --synod-leases-max}, checked by the leader just
 * before it proposes a grant (a follower forwards the grant, so the leader's view decides).
 */
final class LeaseService extends LeaseGrpc.LeaseImplBase {
    private final Proposer proposer;
    private final KvService kv;
    private final StoreHolder store;
    private final Lessor lessor;
    private final KeepAlives keepAlives;
    private final ReplicaDriver driver;
    private final long minTtlSeconds;
    private final SecureRandom random = new SecureRandom();
    private final int leasesMax;
    /** Grants this member (as leader) has proposed and not yet seen decided; they count against {@link #leasesMax}. */
    private final java.util.concurrent.atomic.AtomicInteger grantsInFlight = new java.util.concurrent.atomic.AtomicInteger();

    LeaseService(ServerConfig config, Proposer proposer, KvService kv, StoreHolder store, Lessor lessor, KeepAlives keepAlives) {
        this.proposer = proposer;
        this.keepAlives = keepAlives;
        this.kv = kv;
        this.store = store;
        this.lessor = lessor;
        this.driver = proposer.driver();
        this.minTtlSeconds = minTtlSeconds(config);
        this.leasesMax = config.limits().clients().leasesMax();
    }

    /** The refusal of a grant beyond {@code --synod-leases-max}. */
    static String tooManyLeases(int max) {
        return "synod: too many leases (--synod-leases-max is " + max + "); revoke the leases no longer needed";
    }

    /**
     * The leader's check before proposing a grant: the leases the store holds plus the grants in
     * flight must stay within {@code --synod-leases-max}. A grant decided but not yet released is
     * briefly counted twice, so near the limit a concurrent grant may be refused early, never let
     * through late (except across a change of leader, by the old leader's grants in flight).
     */
    private Proposer.Claim claimLease() {
        int inFlight = grantsInFlight.incrementAndGet();
        int held = store.read(MvccStore::leaseCount);
        if (held + inFlight > leasesMax) {
            grantsInFlight.decrementAndGet();
            throw Status.RESOURCE_EXHAUSTED.withDescription(tooManyLeases(leasesMax)).asRuntimeException();
        }
        return () -> {
            int left = grantsInFlight.decrementAndGet();
            io.synod.common.Assert.that(left >= 0, "lease grants in flight went negative: %d", left);
        };
    }

    /** etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds. */
    static long minTtlSeconds(ServerConfig config) {
        long electionMillis = config.electionTicks() * config.tickMillis();
        return Math.max(1, (3 * electionMillis / 2 + 999) / 1000);
    }

    @Override
    public void leaseGrant(LeaseGrantRequest request, StreamObserver<LeaseGrantResponse> out) {
        proposer.respond(out, () -> {
            if (request.getTTL() > Lease.MAX_TTL_SECONDS) throw EtcdProto.error(MvccError.LEASE_TTL_TOO_LARGE);
            long ttl = Math.max(request.getTTL(), minTtlSeconds);
            boolean pick = request.getID() == 0;
            for (int attempt = 0; ; attempt++) {
                // IDs are positive, as etcd's are, so they print the same way everywhere.
                long id = pick ? 1 + (random.nextLong() & (Long.MAX_VALUE - 1)) : request.getID();
                var forwarded = request.toBuilder().setID(id).build();
                try {
                    return proposer.write(new LeaseCommand.Grant(id, ttl), this::claimLease, ch -> LeaseGrpc.newBlockingStub(ch).leaseGrant(forwarded), res -> {
                        var l = (LeaseResponse) res;
                        return LeaseGrantResponse.newBuilder().setHeader(kv.header(l.revision())).setID(l.id()).setTTL(l.ttlSeconds()).build();
                    }, r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build());
                } catch (StatusRuntimeException e) {
                    boolean clash = e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION
                            && MvccError.LEASE_EXISTS.message().equals(e.getStatus().getDescription());
                    if (!pick || !clash || attempt >= 3) throw e;
                }
            }
        });
    }

    /**
     * Revokes and, when the lease has more keys than one command deletes, keeps revoking until
     * they are all gone, so that when the call returns no key of the lease is left (as in etcd).
     * The leader continues an unfinished revoke by itself too, so a continuation may find the
     * lease already gone, which then means done.
     */
    @Override
    public void leaseRevoke(LeaseRevokeRequest request, StreamObserver<LeaseRevokeResponse> out) {
        proposer.respond(out, () -> {
            boolean[] complete = {false};
            LeaseRevokeResponse last = revokeStep(request, complete);
            while (!complete[0]) {
                try {
                    last = revokeStep(request, complete);
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.NOT_FOUND) throw e;
                    complete[0] = true;
                }
            }
            return last;
        });
    }

    /** One revoke command; sets {@code complete[0]} when no key of the lease is left. */
    private LeaseRevokeResponse revokeStep(LeaseRevokeRequest request, boolean[] complete) {
        return proposer.write(new LeaseCommand.Revoke(request.getID()), ch -> {
            LeaseRevokeResponse r = LeaseGrpc.newBlockingStub(ch).leaseRevoke(request);
            complete[0] = true; // the leader's handler ran the whole revoke
            return r;
        }, res -> {
            complete[0] = ((LeaseResponse) res).complete();
            return LeaseRevokeResponse.newBuilder().setHeader(kv.header(res.revision())).build();
        }, r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build());
    }

    /**
     * Renewals run asynchronously, up to {@link #KEEPALIVE_IN_FLIGHT_MAX} per stream (gRPC flow
     * control holds back further requests until one is answered), so a client renewing many
     * leases on one stream is not served one Raft round trip at a time. Answers may therefore come
     * in another order than the requests; every answer carries its lease ID, which is how etcd
     * clients match them. The stream completes only after every renewal it carried was answered.
     */
    @Override
    public StreamObserver<LeaseKeepAliveRequest> leaseKeepAlive(StreamObserver<LeaseKeepAliveResponse> out) {
        var call = (io.grpc.stub.ServerCallStreamObserver<LeaseKeepAliveResponse>) out;
        call.disableAutoRequest();
        call.request(KEEPALIVE_IN_FLIGHT_MAX);
        return new StreamObserver<>() {
            // Guarded by out's monitor (answers complete on other threads).
            private boolean failed;
            private boolean halfClosed;
            private int pending;

            @Override
            public void onNext(LeaseKeepAliveRequest request) {
                synchronized (out) {
                    if (failed) return;
                    pending++;
                }
                java.util.concurrent.CompletableFuture<LeaseKeepAliveResponse> answer;
                try {
                    answer = renewAsync(request);
                } catch (RuntimeException e) {
                    answer = java.util.concurrent.CompletableFuture.failedFuture(e);
                }
                answer.whenComplete((response, failure) -> {
                    synchronized (out) {
                        pending--;
                        if (failed) return;
                        if (failure != null) {
                            failed = true;
                            out.onError(Proposer.toStatus(Proposer.unwrap(failure)));
                            return;
                        }
                        out.onNext(response);
                        if (halfClosed && pending == 0) out.onCompleted();
                    }
                    call.request(1);
                });
            }

            @Override
            public void onError(Throwable t) {
                // The client went away; nothing to clean up, its leases run out on their own.
            }

            @Override
            public void onCompleted() {
                synchronized (out) {
                    halfClosed = true;
                    if (!failed && pending == 0) out.onCompleted();
                }
            }
        };
    }

    /** Renewals a keep-alive stream may have in flight at once. */
    static final int KEEPALIVE_IN_FLIGHT_MAX = 64;

    /**
     * One keep-alive: made by {@link KeepAlives} if this member leads, else forwarded to the leader
     * in the peer stream; retried with the next leader through an election, until the deadline.
     */
    private java.util.concurrent.CompletableFuture<LeaseKeepAliveResponse> renewAsync(LeaseKeepAliveRequest request) {
        long id = request.getID();
        // The answer is built where the renewal completed (the Raft loop, or the peer stream that brought the leader's
        // answer), unless a write holds the store: its header's revision would then wait for that write.
        return proposer.onLeaderAsync(() -> keepAlives.renewAtLeader(id, ReplicaDriver.Handoff.RUN_HERE), leader -> proposer.forwarder().renew(leader, id))
                .thenApplyAsync(ttl -> LeaseKeepAliveResponse.newBuilder().setHeader(kv.header(store.read(MvccStore::currentRevision))).setID(id)
                        .setTTL(ttl).build(), store.unlessWriting(Runnable::run, proposer.readExecutor()));
    }

    @Override
    public void leaseTimeToLive(LeaseTimeToLiveRequest request, StreamObserver<LeaseTimeToLiveResponse> out) {
        proposer.respond(out, () -> proposer.onLeader(deadline -> {
            // The leader's own view, but only once it has confirmed it still leads and applied everything acknowledged.
            proposer.awaitReadIndex(deadline);
            var b = LeaseTimeToLiveResponse.newBuilder().setHeader(kv.header(store.read(MvccStore::currentRevision))).setID(request.getID());
            Optional<Lease> lease = store.read(s -> s.lease(request.getID())).filter(Lease::live);
            if (lease.isEmpty()) return b.setTTL(-1).build();
            long remaining = lessor.remainingMillis(request.getID()).orElse(lease.get().remainingMillis());
            b.setTTL(remaining / 1000).setGrantedTTL(lease.get().ttlSeconds());
            if (request.getKeys()) {
                for (Bytes k : store.read(s -> s.leaseKeys(request.getID()))) b.addKeys(EtcdProto.byteString(k));
            }
            return b.build();
        }, ch -> LeaseGrpc.newBlockingStub(ch).leaseTimeToLive(request), r -> r.toBuilder().setHeader(kv.localHeader(r.getHeader())).build()));
    }

    /** The IDs of all live leases, read linearizably from the replicated state (etcd 3.4's {@code LeaseLeases}). */
    void leaseLeases(StreamObserver<LeaseLeases.Response> out) {
        proposer.respond(out, () -> {
            proposer.awaitReadIndex(proposer.deadlineNanos());
            return store.read(s -> new LeaseLeases.Response(kv.header(s.currentRevision()), s.leases().stream().map(Lease::id).toList()));
        });
    }

    /** This service with {@code LeaseLeases} added, which the published stubs predate. */
    io.grpc.ServerServiceDefinition definition() {
        return LeaseLeases.extend(bindService(), this::leaseLeases);
    }
}
