package io.synod.bench.load;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrantResponse;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseKeepAliveRequest;
import io.etcd.jetcd.api.LeaseKeepAliveResponse;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.LeaseRevokeResponse;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.PutResponse;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The {@code lease-keepalive} workload. Setup grants {@link ScenarioOptions#leases()} leases with a
 * TTL that outlasts the run; each client owns one LeaseKeepAlive stream and renews the leases in
 * turn (client c renews leases c, c + clients, ...), so all of them are kept alive; one
 * operation is one keep-alive answered with a positive TTL.
 *
 * <p>After the timed part, {@link #finish} measures expiry accuracy: it grants
 * {@link ScenarioOptions#expiryLeases()} short leases, attaches a key to each, watches those keys,
 * renews every lease once, then keeps only the odd ones alive and records when the even ones'
 * keys are deleted, against their TTL ({@link ExpiryStats}). Closing revokes what is left, so
 * thousands of leases do not expire in the middle of a later run.
 */
final class LeaseKeepAlive implements Session {
    /** TTL margin past the run's end for the kept-alive leases (each is renewed only every leases/rate seconds). */
    static final long TTL_MARGIN_SECONDS = 60;
    /** How long past the run's end (or the expiry check's) a keep-alive stream may live. */
    static final long STREAM_DEADLINE_MARGIN_SECONDS = 30;
    /** How long past its TTL an abandoned lease's key may take to vanish before it counts as never expired. */
    static final long EXPIRY_GRACE_SECONDS = 10;

    private final List<Channel> channels;
    private final LoadOptions o;
    private final long[] ids;
    private final KeepAliveStream[] streams;
    private final long[] turn;

    private LeaseKeepAlive(List<Channel> channels, LoadOptions o, long[] ids, int clients) {
        this.channels = channels;
        this.o = o;
        this.ids = ids;
        this.streams = new KeepAliveStream[clients];
        this.turn = new long[clients];
        // A stream that stops answering must not hang the run: it ends (and its renewals fail) past the run's end.
        long streamSeconds = (long) Math.ceil(o.warmupSeconds() + o.durationSeconds()) + STREAM_DEADLINE_MARGIN_SECONDS;
        for (int c = 0; c < clients; c++) {
            streams[c] = new KeepAliveStream(LeaseGrpc.newStub(channels.get(c % channels.size())), streamSeconds);
            turn[c] = c;
        }
    }

    static LeaseKeepAlive open(List<Channel> channels, LoadOptions o, PrintStream log) throws InterruptedException {
        long ttl = (long) Math.ceil(o.warmupSeconds() + o.durationSeconds()) + TTL_MARGIN_SECONDS;
        long t0 = System.nanoTime();
        long[] ids = grant(channels, o.scenario().leases(), ttl);
        log.printf("granted %d leases (TTL %d s) in %.1f s%n", ids.length, ttl, (System.nanoTime() - t0) / 1e9);
        return new LeaseKeepAlive(channels, o, ids, o.clients());
    }

    static long[] grant(List<Channel> channels, int n, long ttlSeconds) throws InterruptedException {
        var stubs = channels.stream().map(LeaseGrpc::newStub).toList();
        List<LeaseGrantResponse> r = Calls.all(n, i -> {
            var f = new java.util.concurrent.CompletableFuture<LeaseGrantResponse>();
            stubs.get(i % stubs.size()).leaseGrant(LeaseGrantRequest.newBuilder().setTTL(ttlSeconds).build(), Calls.into(f));
            return f;
        });
        return r.stream().mapToLong(LeaseGrantResponse::getID).toArray();
    }

    static int revoke(List<Channel> channels, long[] ids) throws InterruptedException {
        var stubs = channels.stream().map(LeaseGrpc::newStub).toList();
        return Calls.bestEffort(ids.length, i -> {
            var f = new java.util.concurrent.CompletableFuture<LeaseRevokeResponse>();
            stubs.get(i % stubs.size()).leaseRevoke(LeaseRevokeRequest.newBuilder().setID(ids[i]).build(), Calls.into(f));
            return f;
        });
    }

    @Override
    public void issue(int client, SplittableRandom rnd, Workload.Callback done) {
        long id = ids[(int) (turn[client] % ids.length)];
        turn[client] += streams.length;
        streams[client].keepAlive(id, r -> done.completed(r != null && r.getTTL() > 0));
    }

    @Override
    public Map<String, Double> finish(PrintStream log) throws InterruptedException {
        ScenarioOptions sc = o.scenario();
        if (sc.expiryLeases() == 0) return Map.of();
        int n = sc.expiryLeases();
        long ttlNanos = TimeUnit.SECONDS.toNanos(sc.expiryTtlSeconds());
        long[] leases = grant(channels, n, sc.expiryTtlSeconds());
        var prefix = ByteString.copyFromUtf8("bench-expiry/" + Long.toHexString(System.nanoTime()) + "/");
        var index = new ConcurrentHashMap<Long, Integer>();
        for (int i = 0; i < n; i++) index.put(leases[i], i);
        long[] sent = new long[n], acked = new long[n], deleted = new long[n];
        java.util.Arrays.fill(deleted, -1);
        boolean[] abandoned = new boolean[n];
        for (int i = 0; i < n; i += 2) abandoned[i] = true;

        // Watch the keys first, so that no deletion can be missed.
        var created = new CountDownLatch(1);
        var abandonedLeft = new CountDownLatch((n + 1) / 2);
        StreamObserver<WatchRequest> watch = WatchGrpc.newStub(channels.get(0)).watch(new StreamObserver<>() {
            @Override
            public void onNext(WatchResponse r) {
                long now = System.nanoTime();
                if (r.getCreated()) created.countDown();
                for (Event e : r.getEventsList()) {
                    if (e.getType() != Event.EventType.DELETE) continue;
                    int i = Integer.parseInt(e.getKv().getKey().substring(prefix.size()).toStringUtf8());
                    synchronized (deleted) {
                        if (deleted[i] >= 0) continue;
                        deleted[i] = now;
                    }
                    if (abandoned[i]) abandonedLeft.countDown();
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        });
        var keepAlive = new KeepAliveStream(LeaseGrpc.newStub(channels.get(0)),
                sc.expiryTtlSeconds() + EXPIRY_GRACE_SECONDS + STREAM_DEADLINE_MARGIN_SECONDS);
        try {
            watch.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(prefix)
                    .setRangeEnd(Workload.prefixEnd(prefix))).build());
            if (!created.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("expiry watch not created within 30 s");
            var kv = channels.stream().map(KVGrpc::newStub).toList();
            Calls.all(n, i -> {
                var f = new java.util.concurrent.CompletableFuture<PutResponse>();
                kv.get(i % kv.size()).put(PutRequest.newBuilder().setKey(prefix.concat(ByteString.copyFromUtf8(Integer.toString(i))))
                        .setLease(leases[i]).build(), Calls.into(f));
                return f;
            });
            // One renewal of every lease: for the abandoned ones it is the last, the reference of their expiry.
            var renewed = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                int li = i;
                sent[li] = System.nanoTime();
                keepAlive.keepAlive(leases[li], r -> {
                    acked[li] = System.nanoTime();
                    renewed.countDown();
                });
            }
            if (!renewed.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("expiry leases not renewed within 30 s");
            long lastAck = 0;
            for (long a : acked) lastAck = Math.max(lastAck, a);
            long deadline = lastAck + ttlNanos + TimeUnit.SECONDS.toNanos(EXPIRY_GRACE_SECONDS);
            // Keep the odd ones alive at a third of their TTL until every abandoned key is gone (or the deadline).
            long period = ttlNanos / 3;
            while (System.nanoTime() < deadline) {
                if (abandonedLeft.await(Math.min(period, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) break;
                var round = new CountDownLatch(n / 2);
                for (int i = 1; i < n; i += 2) keepAlive.keepAlive(leases[i], r -> round.countDown());
                round.await(period, TimeUnit.NANOSECONDS);
            }
            // Kept-alive keys that vanish within one more TTL after the check would still be caught by a longer wait;
            // the check ends here, which is what a client would observe.
            ExpiryStats stats;
            synchronized (deleted) {
                stats = ExpiryStats.of(ttlNanos, sent, acked, deleted.clone(), abandoned);
            }
            log.printf("expiry: %s%n", stats);
            return stats.asExtras();
        } finally {
            keepAlive.close();
            if (watch instanceof ClientCallStreamObserver<WatchRequest> c) c.cancel("expiry check over", null);
            revoke(channels, leases);
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (KeepAliveStream s : streams) s.close();
        int failed = revoke(channels, ids);
        if (failed > 0) System.err.println("lease-keepalive: " + failed + " of " + ids.length + " leases not revoked");
    }

    /**
     * One LeaseKeepAlive stream, reopened after a failure. Answers are matched to requests by lease
     * id (one stream may carry several renewals at once); a callback gets null when the stream fails.
     */
    static final class KeepAliveStream {
        private final LeaseGrpc.LeaseStub stub;
        private final long deadlineSeconds;
        private StreamObserver<LeaseKeepAliveRequest> requests;
        private final Map<Long, List<java.util.function.Consumer<LeaseKeepAliveResponse>>> waiting = new LinkedHashMap<>();

        /** Each stream it opens ends after {@code deadlineSeconds}, failing what waits on it. */
        KeepAliveStream(LeaseGrpc.LeaseStub stub, long deadlineSeconds) {
            this.stub = stub;
            this.deadlineSeconds = deadlineSeconds;
        }

        synchronized void keepAlive(long id, java.util.function.Consumer<LeaseKeepAliveResponse> answer) {
            if (requests == null) {
                StreamObserver<LeaseKeepAliveRequest>[] self = new StreamObserver[1];
                self[0] = stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS).leaseKeepAlive(new StreamObserver<>() {
                    @Override
                    public void onNext(LeaseKeepAliveResponse r) {
                        java.util.function.Consumer<LeaseKeepAliveResponse> a = null;
                        synchronized (KeepAliveStream.this) {
                            var q = waiting.get(r.getID());
                            if (q != null) {
                                a = q.removeFirst();
                                if (q.isEmpty()) waiting.remove(r.getID());
                            }
                        }
                        if (a != null) a.accept(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        failed(self[0]);
                    }

                    @Override
                    public void onCompleted() {
                        failed(self[0]);
                    }
                });
                requests = self[0];
            }
            waiting.computeIfAbsent(id, k -> new ArrayList<>(1)).add(answer);
            requests.onNext(LeaseKeepAliveRequest.newBuilder().setID(id).build());
        }

        /** The stream {@code which} ended: every renewal waiting on it fails; the next one opens a new stream. */
        private void failed(StreamObserver<LeaseKeepAliveRequest> which) {
            var lost = new ArrayList<java.util.function.Consumer<LeaseKeepAliveResponse>>();
            synchronized (this) {
                if (requests != which) return;
                requests = null;
                for (var q : waiting.values()) lost.addAll(q);
                waiting.clear();
            }
            for (var a : lost) a.accept(null);
        }

        synchronized void close() {
            if (requests != null) requests.onCompleted();
            requests = null;
        }
    }
}
