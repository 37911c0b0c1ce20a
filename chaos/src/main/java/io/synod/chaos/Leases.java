package io.synod.chaos;

import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Lease calls for the harness: grant, one keep-alive round trip on a fresh stream (like {@code etcdctl lease keep-alive --once}), revoke. */
public final class Leases {
    private Leases() {}

    /** Grants a lease; returns {@code {id, ttlSeconds}}. */
    public static long[] grant(RunContext ctx, int member, long ttlSeconds) {
        var r = LeaseGrpc.newBlockingStub(ctx.channel(member)).withDeadlineAfter(ctx.callDeadlineMillis, TimeUnit.MILLISECONDS)
                .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).build());
        if (!r.getError().isEmpty()) throw new IllegalStateException("lease grant: " + r.getError());
        return new long[] {r.getID(), r.getTTL()};
    }

    /** One keep-alive; returns the TTL the server granted (0 or less: the lease is gone). */
    public static long keepAliveOnce(RunContext ctx, int member, long id) throws Exception {
        var result = new CompletableFuture<LeaseKeepAliveResponse>();
        StreamObserver<LeaseKeepAliveRequest> out = LeaseGrpc.newStub(ctx.channel(member))
                .withDeadlineAfter(ctx.callDeadlineMillis, TimeUnit.MILLISECONDS).leaseKeepAlive(new StreamObserver<>() {
                    @Override
                    public void onNext(LeaseKeepAliveResponse r) {
                        result.complete(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        result.completeExceptionally(new IllegalStateException("keep-alive stream ended without an answer"));
                    }
                });
        try {
            out.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
            return result.get(ctx.callDeadlineMillis + 500, TimeUnit.MILLISECONDS).getTTL();
        } finally {
            try {
                out.onCompleted();
            } catch (RuntimeException ignored) {
                // stream already failed
            }
        }
    }

    public static void revoke(RunContext ctx, int member, long id) {
        LeaseGrpc.newBlockingStub(ctx.channel(member)).withDeadlineAfter(ctx.callDeadlineMillis, TimeUnit.MILLISECONDS)
                .leaseRevoke(LeaseRevokeRequest.newBuilder().setID(id).build());
    }
}
