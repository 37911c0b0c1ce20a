package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.LeaseGrantRequest;
import io.etcd.jetcd.api.LeaseGrpc;
import io.etcd.jetcd.api.LeaseRevokeRequest;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.RangeResponse;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.MvccError;
import io.synod.mvcc.watch.WatchHub;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each client limit against real members over gRPC: a limit reached is refused with the
 * documented error (or, for streams, held in the client), other clients are still served, and
 * ending what held the place frees it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientLimitsClusterTest {
    @TempDir Path dir;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        for (ManagedChannel c : channels) c.shutdownNow();
    }

    static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static TestCluster cluster(Path dir, int size, UnaryOperator<ClientLimits> limits) throws Exception {
        return new TestCluster(dir, size, c -> c.withLimits(c.limits().withClients(limits.apply(c.limits().clients()))));
    }

    /** A connection of its own to member {@code i}; a small flow-control window makes a client that does not read stall quickly. */
    private ManagedChannel channel(TestCluster cluster, int i) {
        URI u = cluster.configs.get(i).clientUrl();
        var ch = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().flowControlWindow(64 * 1024).build();
        channels.add(ch);
        return ch;
    }

    private static KVGrpc.KVBlockingStub kv(ManagedChannel ch) {
        return KVGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within 30 s: " + what);
            Thread.sleep(10);
        }
    }

    /** A raw Watch stream that collects what the member sends. */
    static final class RawWatch {
        final LinkedBlockingQueue<WatchResponse> responses = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> ended = new CompletableFuture<>();
        final StreamObserver<WatchRequest> requests;

        RawWatch(ManagedChannel ch) {
            requests = WatchGrpc.newStub(ch).watch(new StreamObserver<>() {
                @Override
                public void onNext(WatchResponse r) {
                    responses.add(r);
                }

                @Override
                public void onError(Throwable t) {
                    ended.complete(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    ended.complete(Status.OK);
                }
            });
        }

        /** Creates a watch on {@code key} and returns the member's answer to it. */
        WatchResponse create(String key, long startRevision) throws InterruptedException {
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(b(key))
                    .setStartRevision(startRevision)).build());
            return next();
        }

        WatchResponse next() throws InterruptedException {
            WatchResponse r = responses.poll(30, TimeUnit.SECONDS);
            assertThat(r).as("a watch response within 30 s").isNotNull();
            return r;
        }

        void cancel(long watchId) throws InterruptedException {
            requests.onNext(WatchRequest.newBuilder().setCancelRequest(io.etcd.jetcd.api.WatchCancelRequest.newBuilder().setWatchId(watchId))
                    .build());
            assertThat(next().getCanceled()).isTrue();
        }
    }

    /**
     * A range call that never asks for its response ({@code read} false): the member cannot finish
     * sending it once the client's flow-control window is full, so the call stays open. With
     * {@code read} the response is taken normally.
     */
    static final class RawRange {
        final ClientCall<RangeRequest, RangeResponse> call;
        final CompletableFuture<Status> closed = new CompletableFuture<>();
        final CompletableFuture<RangeResponse> response = new CompletableFuture<>();

        RawRange(ManagedChannel ch, RangeRequest request, boolean read) {
            call = ch.newCall(KVGrpc.getRangeMethod(), CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(RangeResponse message) {
                    response.complete(message);
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    closed.complete(status);
                }
            }, new Metadata());
            call.sendMessage(request);
            call.halfClose();
            if (read) call.request(1);
        }
    }

    static RangeRequest everything() {
        return RangeRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0")).build();
    }

    /** {@code n} keys of {@code bytes} each under {@code prefix}, in batches. */
    static void fill(KVGrpc.KVBlockingStub kv, String prefix, int n, int bytes) {
        ByteString value = ByteString.copyFrom(new byte[bytes]);
        for (int i = 0; i < n; i++) kv.put(PutRequest.newBuilder().setKey(b(String.format("%s%05d", prefix, i))).setValue(value).build());
    }

    @Test
    void streamsBeyondTheLimitOfOneConnectionWaitWhileOtherConnectionsAreServed() throws Exception {
        try (var cluster = cluster(dir, 1, l -> l.withMaxConcurrentStreams(2))) {
            cluster.awaitLeader(10_000);
            ManagedChannel a = channel(cluster, 0);
            ManagedChannel b = channel(cluster, 0);
            var w1 = new RawWatch(a);
            var w2 = new RawWatch(a);
            assertThat(w1.create("x", 0).getCreated()).isTrue();
            assertThat(w2.create("y", 0).getCreated()).isTrue();

            // Both of a's stream slots are taken: its third call waits in the client, b's is served.
            var held = KVGrpc.newFutureStub(a).withDeadlineAfter(60, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(b("held")).setValue(b("1")).build());
            assertThat(kv(b).put(PutRequest.newBuilder().setKey(b("other")).setValue(b("1")).build()).getHeader().getRevision()).isPositive();
            assertThat(kv(b).range(RangeRequest.newBuilder().setKey(b("other")).build()).getKvsCount()).isEqualTo(1);
            assertThatThrownBy(() -> held.get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(kv(b).range(RangeRequest.newBuilder().setKey(b("held")).build()).getKvsCount()).isZero();

            // Ending one stream lets the waiting call through. grpc-java's client starts the waiting stream when a
            // slot frees but sends its headers only with the connection's next flush, so the test writes on the
            // stream that is still open (a progress request) until the held call is answered. (A further call on
            // the connection would not do: it waits for a slot itself, and it never flushes if it queued first.)
            ((io.grpc.stub.ClientCallStreamObserver<WatchRequest>) w1.requests).cancel("test: done watching", null);
            assertThat(w1.ended.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!held.isDone() && System.nanoTime() < until) {
                w2.requests.onNext(WatchRequest.newBuilder().setProgressRequest(io.etcd.jetcd.api.WatchProgressRequest.getDefaultInstance()).build());
                try {
                    held.get(200, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // not sent yet: flush again
                }
            }
            held.get(1, TimeUnit.SECONDS);
            assertThat(kv(b).range(RangeRequest.newBuilder().setKey(b("held")).build()).getKvsCount()).isEqualTo(1);
        }
    }

    @Test
    void watchesBeyondTheMemberAndStreamLimitsAreRefusedWithACancelReason() throws Exception {
        try (var cluster = cluster(dir, 1, l -> l.withWatchers(3, 2))) {
            cluster.awaitLeader(10_000);
            ManagedChannel ch = channel(cluster, 0);
            var s1 = new RawWatch(ch);
            var s2 = new RawWatch(ch);
            WatchResponse first = s1.create("a", 0);
            assertThat(s1.create("b", 0).getCreated()).isTrue();
            WatchResponse perStream = s1.create("c", 0);
            assertThat(perStream.getCreated()).isTrue();
            assertThat(perStream.getCanceled()).isTrue();
            assertThat(perStream.getCancelReason()).isEqualTo(WatchHub.TOO_MANY_WATCHERS);

            assertThat(s2.create("d", 0).getCanceled()).isFalse();
            WatchResponse perMember = s2.create("e", 0);
            assertThat(perMember.getCreated()).isTrue();
            assertThat(perMember.getCanceled()).isTrue();
            assertThat(perMember.getWatchId()).isEqualTo(WatchHub.NO_WATCH_ID);
            assertThat(perMember.getCancelReason()).isEqualTo(WatchHub.TOO_MANY_WATCHERS_IN_HUB);
            assertThat(s2.ended).isNotDone(); // the stream and its other watch go on

            // jetcd, which opens a stream per watch, hears of the refusal through the watch's listener.
            try (var client = ClusterTest.client(cluster, 0)) {
                var error = new CompletableFuture<Throwable>();
                var jetcdWatch = client.getWatchClient().watch(io.etcd.jetcd.ByteSequence.from(b("j")),
                        io.etcd.jetcd.Watch.listener(r -> error.completeExceptionally(new AssertionError("unexpected " + r)), error::complete));
                assertThat(error.get(30, TimeUnit.SECONDS)).hasMessageContaining("failed to create watch id"); // jetcd 0.8.5 drops the reason
                jetcdWatch.close();
            }

            s1.cancel(first.getWatchId());
            WatchResponse again = s2.create("e", 0);
            assertThat(again.getCanceled()).isFalse();
            kv(channel(cluster, 0)).put(PutRequest.newBuilder().setKey(b("e")).setValue(b("v")).build());
            WatchResponse event = s2.next();
            assertThat(event.getWatchId()).isEqualTo(again.getWatchId());
            assertThat(event.getEvents(0).getKv().getKey()).isEqualTo(b("e"));
        }
    }

    @Test
    void leaseGrantsBeyondTheLimitAreRefusedByTheLeaderUntilOneIsRevoked() throws Exception {
        try (var cluster = cluster(dir, 3, l -> l.withLeasesMax(2))) {
            int leader = cluster.awaitLeader(10_000);
            var viaFollower = LeaseGrpc.newBlockingStub(channel(cluster, (leader + 1) % 3)).withDeadlineAfter(30, TimeUnit.SECONDS);
            var viaLeader = LeaseGrpc.newBlockingStub(channel(cluster, leader)).withDeadlineAfter(30, TimeUnit.SECONDS);
            long first = viaFollower.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build()).getID();
            viaLeader.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build());
            for (var stub : List.of(viaFollower, viaLeader)) {
                assertThatThrownBy(() -> stub.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                            assertThat(e.getStatus().getDescription()).isEqualTo(LeaseService.tooManyLeases(2));
                        });
            }
            viaFollower.leaseRevoke(LeaseRevokeRequest.newBuilder().setID(first).build());
            assertThat(viaFollower.leaseGrant(LeaseGrantRequest.newBuilder().setID(77).setTTL(60).build()).getID()).isEqualTo(77);
            assertThatThrownBy(() -> viaLeader.leaseGrant(LeaseGrantRequest.newBuilder().setTTL(60).build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("too many leases");
        }
    }

    @Test
    void expensiveReadsGetPermitsThenAQueueThenTooManyRequestsWhileCheapRequestsGoOn() throws Exception {
        try (var cluster = cluster(dir, 1, l -> l.withExpensiveRequests(1, 1))) {
            cluster.awaitLeader(10_000);
            var cheap = kv(channel(cluster, 0));
            fill(cheap, "big/", 64, 32 * 1024); // 2 MiB: far beyond the reader's flow-control window
            ExpensiveRequests gate = cluster.servers[0].expensiveRequests();

            // A reader that never takes its response holds the only permit while the member waits to send it.
            var stuck = new RawRange(channel(cluster, 0), everything(), false);
            await("the stuck read holds the permit", () -> gate.stats().inUse() == 1);
            var queued = new RawRange(channel(cluster, 0), everything(), true);
            await("the second read waits for it", () -> gate.stats().waiting() == 1);
            var refused = new RawRange(channel(cluster, 0), everything(), true);
            Status status = refused.closed.get(30, TimeUnit.SECONDS);
            assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(status.getDescription()).isEqualTo("etcdserver: too many requests");
            // Claiming to be a forwarding member does not get a client past the limit.
            var header = new Metadata();
            header.put(Proposer.FORWARDED_HEADER, "1");
            assertThatThrownBy(() -> cheap.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(header)).range(everything()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: too many requests"));
            // A txn that reads a large range is expensive too.
            var bigTxn = io.etcd.jetcd.api.TxnRequest.newBuilder().addSuccess(io.etcd.jetcd.api.RequestOp.newBuilder()
                    .setRequestRange(everything())).build();
            assertThatThrownBy(() -> cheap.txn(bigTxn)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getDescription()).isEqualTo("etcdserver: too many requests"));

            // Cheap requests, a limited range included, are not held up by the expensive ones.
            cheap.put(PutRequest.newBuilder().setKey(b("small")).setValue(b("1")).build());
            assertThat(cheap.range(RangeRequest.newBuilder().setKey(b("small")).build()).getKvsCount()).isEqualTo(1);
            assertThat(cheap.range(RangeRequest.newBuilder().setKey(b("big/")).setRangeEnd(b("big0")).setLimit(10).build()).getKvsCount())
                    .isEqualTo(10);
            assertThat(queued.closed).isNotDone();

            stuck.call.cancel("test: the stuck reader gives up", null);
            assertThat(queued.closed.get(30, TimeUnit.SECONDS).isOk()).isTrue();
            assertThat(queued.response.get().getKvsCount()).isEqualTo(65);
            await("every permit is back", () -> gate.stats().inUse() == 0 && gate.stats().waiting() == 0);
            assertThat(gate.stats().refused()).isEqualTo(3);
            assertThat(cluster.servers[0].metrics().scrape()).contains("synod_expensive_requests_refused_total 3.0")
                    .contains("synod_expensive_requests_in_use 0.0");
        }
    }

    @Test
    void anExpensiveTxnForwardedByAFollowerIsAdmittedThereAndNotAgainByTheLeader() throws Exception {
        try (var cluster = cluster(dir, 3, l -> l.withExpensiveRequests(1, 0))) {
            int leader = cluster.awaitLeader(10_000);
            int follower = (leader + 1) % 3;
            fill(kv(channel(cluster, leader)), "big/", 64, 32 * 1024);
            var stuck = new RawRange(channel(cluster, leader), everything(), false);
            await("the leader's only permit is held", () -> cluster.servers[leader].expensiveRequests().stats().inUse() == 1);
            var txn = io.etcd.jetcd.api.TxnRequest.newBuilder().addSuccess(io.etcd.jetcd.api.RequestOp.newBuilder()
                    .setRequestRange(everything().toBuilder().setKeysOnly(true))).build();
            assertThatThrownBy(() -> kv(channel(cluster, leader)).txn(txn)).hasMessageContaining("too many requests");
            var viaFollower = kv(channel(cluster, follower)).txn(txn);
            assertThat(viaFollower.getResponses(0).getResponseRange().getKvsCount()).isEqualTo(64);
            assertThat(cluster.servers[follower].expensiveRequests().stats().admitted()).isEqualTo(1);
            stuck.call.cancel("test: done", null);
        }
    }

    @Test
    void aRangeResponseBeyondTheByteLimitIsRefusedAndPagesOfItAreServed() throws Exception {
        try (var cluster = cluster(dir, 1, l -> l.withRangeResponseBytesMax(100_000))) {
            cluster.awaitLeader(10_000);
            var kv = kv(channel(cluster, 0));
            fill(kv, "k/", 200, 1000);
            for (boolean serializable : new boolean[] {false, true}) {
                assertThatThrownBy(() -> kv.range(everything().toBuilder().setSerializable(serializable).build()))
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                            assertThat(e.getStatus().getDescription()).isEqualTo(MvccError.rangeTooLarge(100_000).message());
                        });
            }
            assertThat(kv.range(everything().toBuilder().setLimit(50).build()).getKvsCount()).isEqualTo(50);
            assertThat(kv.range(everything().toBuilder().setKeysOnly(true).build()).getKvsCount()).isEqualTo(200);
            assertThat(kv.range(everything().toBuilder().setCountOnly(true).build()).getCount()).isEqualTo(200);
        }
    }
}
