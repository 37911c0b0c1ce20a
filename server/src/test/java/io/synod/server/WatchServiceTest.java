package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.WatchCancelRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchProgressRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.synod.mvcc.Bytes;
import io.synod.mvcc.Command;
import io.synod.mvcc.CompactRequest;
import io.synod.mvcc.DeleteRangeRequest;
import io.synod.mvcc.MvccOptions;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.PutRequest;
import io.synod.mvcc.RequestOp;
import io.synod.mvcc.TxnRequest;
import io.synod.mvcc.watch.WatchHub;
import io.synod.mvcc.watch.WatchOptions;
import io.synod.server.watch.WatchService;
import io.synod.server.watch.WatchServiceOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Watch service over real gRPC against one store (no Raft: the test thread plays the apply
 * thread), speaking etcd's raw protocol so that what jetcd cannot send is covered too: many
 * watches on one stream, client-chosen and duplicate watch ids, empty ranges, compacted starts,
 * progress requests and notifications, fragments, and a client that stops reading.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WatchServiceTest {
    static final long CLUSTER_ID = 7, MEMBER_ID = 9;
    @TempDir Path dir;
    StoreHolder holder;
    MvccStore store;
    long index = 1;
    WatchService service;
    Server server;
    ManagedChannel channel;

    void start(WatchServiceOptions options) throws Exception {
        holder = StoreHolder.open(dir, MvccOptions.defaults().withMaxEventsPerCatchUp(50));
        store = holder.current();
        service = new WatchService(holder, rev -> ResponseHeader.newBuilder().setClusterId(CLUSTER_ID).setMemberId(MEMBER_ID)
                .setRevision(rev).setRaftTerm(1).build(), options);
        int port = TestCluster.freePorts(1)[0];
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(service).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (service != null) service.close();
        if (holder != null) holder.close();
    }

    static ByteString bs(String s) {
        return ByteString.copyFromUtf8(s);
    }

    long apply(Command c) {
        store.apply(index++, c);
        return store.currentRevision();
    }

    long put(String k, String v) {
        return apply(PutRequest.of(Bytes.utf8(k), Bytes.utf8(v)));
    }

    /** A raw Watch stream; with {@code manual} the client reads only what {@link #request} allows. */
    final class RawStream {
        final LinkedBlockingQueue<WatchResponse> responses = new LinkedBlockingQueue<>();
        final io.grpc.stub.StreamObserver<WatchRequest> requests;
        volatile ClientCallStreamObserver<WatchRequest> call;

        RawStream(boolean manual) {
            requests = WatchGrpc.newStub(channel).watch(new ClientResponseObserver<WatchRequest, WatchResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WatchRequest> c) {
                    call = c;
                    if (manual) c.disableAutoRequestWithInitial(1);
                }

                @Override
                public void onNext(WatchResponse r) {
                    responses.add(r);
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            });
        }

        void create(WatchCreateRequest.Builder b) {
            requests.onNext(WatchRequest.newBuilder().setCreateRequest(b).build());
        }

        void cancel(long id) {
            requests.onNext(WatchRequest.newBuilder().setCancelRequest(WatchCancelRequest.newBuilder().setWatchId(id)).build());
        }

        void progress() {
            requests.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
        }

        WatchResponse next() throws InterruptedException {
            WatchResponse r = responses.poll(20, TimeUnit.SECONDS);
            assertThat(r).as("a watch response within 20 s").isNotNull();
            assertThat(r.getHeader().getClusterId()).isEqualTo(CLUSTER_ID);
            assertThat(r.getHeader().getMemberId()).isEqualTo(MEMBER_ID);
            return r;
        }

        /** Reads responses into {@code into} until the whole list satisfies {@code done}. */
        void readUntil(List<WatchResponse> into, Predicate<List<WatchResponse>> done) throws InterruptedException {
            while (!done.test(into)) into.add(next());
        }

        /** Reads responses until one matches, returning everything read. */
        List<WatchResponse> until(Predicate<WatchResponse> done) throws InterruptedException {
            List<WatchResponse> out = new ArrayList<>();
            while (true) {
                WatchResponse r = next();
                out.add(r);
                if (done.test(r)) return out;
            }
        }
    }

    static List<Long> revisions(List<WatchResponse> rs, long watchId) {
        List<Long> out = new ArrayList<>();
        for (WatchResponse r : rs) {
            if (r.getWatchId() == watchId) r.getEventsList().forEach(e -> out.add(e.getKv().getModRevision()));
        }
        return out;
    }

    @Test
    void manyWatchesOnOneStreamWithEtcdSemantics() throws Exception {
        start(WatchServiceOptions.defaults(1 << 20));
        put("foo", "1"); // 2
        put("foo", "2"); // 3
        long current = put("bar", "x"); // 4
        var s = new RawStream(false);

        s.create(WatchCreateRequest.newBuilder().setKey(bs("foo"))); // from now
        var created = s.next();
        assertThat(created.getCreated()).isTrue();
        assertThat(created.getWatchId()).isEqualTo(0); // etcd assigns ids from 0
        assertThat(created.getHeader().getRevision()).isEqualTo(current);

        s.create(WatchCreateRequest.newBuilder().setKey(bs("f")).setRangeEnd(bs("g")).setStartRevision(2).setPrevKv(true));
        s.create(WatchCreateRequest.newBuilder().setRangeEnd(bs("\0")).addFilters(WatchCreateRequest.FilterType.NOPUT));
        s.create(io.synod.server.watch.WatchProtoAccess.withWatchId(WatchCreateRequest.newBuilder().setKey(bs("foo")), 42));
        s.create(io.synod.server.watch.WatchProtoAccess.withWatchId(WatchCreateRequest.newBuilder().setKey(bs("zzz")), 42));
        s.create(WatchCreateRequest.newBuilder().setKey(bs("b")).setRangeEnd(bs("a")));
        List<WatchResponse> rs = s.until(r -> r.getCanceled() && r.getCancelReason().equals(WatchHub.EMPTY_RANGE));
        var creates = rs.stream().filter(WatchResponse::getCreated).toList();
        assertThat(creates).extracting(WatchResponse::getWatchId).containsExactly(1L, 2L, 42L, -1L, -1L);
        assertThat(creates.get(3).getCanceled()).isTrue();
        assertThat(creates.get(3).getCancelReason()).isEqualTo("mvcc: duplicate watch ID provided on the WatchStream");
        assertThat(creates.get(4).getCancelReason()).isEqualTo("mvcc: watcher range is empty");

        long r5 = put("foo", "3");
        long r6 = apply(DeleteRangeRequest.single(Bytes.utf8("bar")));
        s.readUntil(rs, all -> revisions(all, 0).contains(r5) && revisions(all, 1).contains(r5) && revisions(all, 2).contains(r6)
                && revisions(all, 42).contains(r5));
        Map<Long, List<Long>> got = new HashMap<>();
        for (long id : List.of(0L, 42L)) got.put(id, revisions(rs, id));
        assertThat(got.get(0L)).containsExactly(r5);
        assertThat(got.get(42L)).containsExactly(r5);
        assertThat(revisions(rs, 1)).containsExactly(2L, 3L, r5);
        assertThat(revisions(rs, 2)).containsExactly(r6);
        var prefixEvents = rs.stream().filter(r -> r.getWatchId() == 1).flatMap(r -> r.getEventsList().stream()).toList();
        assertThat(prefixEvents.get(0).hasPrevKv()).isFalse(); // a creation has no previous version
        assertThat(prefixEvents.get(1).getPrevKv().getValue().toStringUtf8()).isEqualTo("1");
        var delete = rs.stream().filter(r -> r.getWatchId() == 2 && r.getEventsCount() > 0).findFirst().orElseThrow().getEvents(0);
        assertThat(delete.getType()).isEqualTo(io.etcd.jetcd.api.Event.EventType.DELETE);
        assertThat(delete.getKv().getKey().toStringUtf8()).isEqualTo("bar");
        assertThat(delete.hasPrevKv()).isFalse(); // not asked for

        s.cancel(0);
        var canceled = s.until(WatchResponse::getCanceled).getLast();
        assertThat(canceled.getWatchId()).isEqualTo(0);
        long r7 = put("foo", "4");
        List<WatchResponse> after = new ArrayList<>();
        s.readUntil(after, all -> revisions(all, 1).contains(r7) && revisions(all, 42).contains(r7));
        assertThat(revisions(after, 0)).isEmpty();
        assertThat(revisions(after, 42)).containsExactly(r7);
    }

    @Test
    void compactedStartRevisionIsCanceledWithTheCompactRevision() throws Exception {
        start(WatchServiceOptions.defaults(1 << 20));
        for (int i = 0; i < 5; i++) put("k", "v" + i); // 2..6
        apply(new CompactRequest(4));
        var s = new RawStream(false);
        s.create(WatchCreateRequest.newBuilder().setKey(bs("k")).setStartRevision(2));
        assertThat(s.next().getCreated()).isTrue();
        var canceled = s.next();
        assertThat(canceled.getCanceled()).isTrue();
        assertThat(canceled.getCompactRevision()).isEqualTo(4);
        assertThat(canceled.getCancelReason()).isEqualTo("mvcc: required revision has been compacted");
        s.create(WatchCreateRequest.newBuilder().setKey(bs("k")).setStartRevision(5));
        assertThat(revisions(s.until(r -> r.getEventsCount() > 0), 1)).containsExactly(5L, 6L);
    }

    @Test
    void progressRequestAndPeriodicProgressNotify() throws Exception {
        start(WatchServiceOptions.defaults(1 << 20).withProgressIntervalMillis(200));
        put("a", "1");
        var s = new RawStream(false);
        s.create(WatchCreateRequest.newBuilder().setKey(bs("a")).setProgressNotify(true));
        s.create(WatchCreateRequest.newBuilder().setKey(bs("b")).setStartRevision(1));
        s.until(r -> r.getCreated() && r.getWatchId() == 1); // creates are asynchronous: write only once both exist
        long current = put("a", "2");
        s.progress();
        var progress = s.until(r -> r.getWatchId() == -1 && !r.getCreated());
        assertThat(progress.getLast().getEventsCount()).isZero();
        assertThat(progress.getLast().getHeader().getRevision()).isEqualTo(current);
        // Bookmark: the event at `current` came before the progress response.
        assertThat(revisions(progress, 0)).containsExactly(current);
        var notify = s.until(r -> r.getWatchId() == 0 && r.getEventsCount() == 0 && !r.getCreated()).getLast();
        assertThat(notify.getHeader().getRevision()).isEqualTo(current);
    }

    @Test
    void largeRevisionsAreSplitAtRevisionsAndFragmentedOnlyWhenAsked() throws Exception {
        start(WatchServiceOptions.defaults(1 << 20).withResponseBytesMax(4096));
        var s = new RawStream(false);
        s.create(io.synod.server.watch.WatchProtoAccess.withFragment(WatchCreateRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l"))));
        s.create(WatchCreateRequest.newBuilder().setKey(bs("k")).setRangeEnd(bs("l")));
        s.until(r -> r.getWatchId() == 1 && r.getCreated());
        String big = "x".repeat(1500);
        List<RequestOp> ops = new ArrayList<>();
        for (int i = 0; i < 6; i++) ops.add(PutRequest.of(Bytes.utf8("k" + i), Bytes.utf8(big)));
        long txnRev = apply(new TxnRequest(List.of(), ops, List.of()));
        long p1 = put("k0", big), p2 = put("k1", big);

        var rs = s.until(r -> revisions(List.of(r), 1).contains(p2));
        while (!revisions(rs, 0).contains(p2)) rs.add(s.next());
        var fragmented = rs.stream().filter(r -> r.getWatchId() == 0 && r.getEventsCount() > 0).toList();
        var whole = rs.stream().filter(r -> r.getWatchId() == 1 && r.getEventsCount() > 0).toList();
        // Without fragments: the big revision travels whole, the later ones in responses under the limit.
        assertThat(whole.get(0).getEventsCount()).isEqualTo(6);
        assertThat(whole).allMatch(r -> !io.synod.server.watch.WatchProtoAccess.isFragment(r));
        assertThat(revisions(whole, 1)).containsExactly(txnRev, txnRev, txnRev, txnRev, txnRev, txnRev, p1, p2);
        // With fragments: the big revision arrives in parts, all but its last marked as fragments.
        int parts = 0;
        while (revisions(List.of(fragmented.get(parts)), 0).contains(txnRev)) parts++;
        assertThat(parts).isGreaterThan(1);
        for (int i = 0; i < parts; i++) {
            assertThat(io.synod.server.watch.WatchProtoAccess.isFragment(fragmented.get(i))).isEqualTo(i < parts - 1);
            assertThat(fragmented.get(i).getSerializedSize()).isLessThan(4096 + 512);
        }
        assertThat(revisions(fragmented, 0)).containsExactly(txnRev, txnRev, txnRev, txnRev, txnRev, txnRev, p1, p2);
    }

    @Test
    void aClientThatStopsReadingCostsBoundedMemoryAndLosesNothing() throws Exception {
        start(WatchServiceOptions.defaults(1 << 20).withHub(WatchOptions.defaults().withQueueLimits(64, 256 << 10, 64)));
        var s = new RawStream(true);
        s.create(WatchCreateRequest.newBuilder().setKey(bs("p/")).setRangeEnd(bs("p0")));
        assertThat(s.next().getCreated()).isTrue(); // the one message the client asked for
        String value = "v".repeat(1024);
        List<Long> written = new ArrayList<>();
        for (int i = 0; i < 4000; i++) written.add(put("p/" + (i % 50), value));
        // ~4 MB of events against a 256 KiB queue and a client reading nothing: the watcher must have
        // left the live path rather than buffer it all.
        assertThat(service.hub().stats().demotions()).isPositive();
        s.call.request(Integer.MAX_VALUE);
        List<Long> got = new ArrayList<>();
        while (got.size() < written.size()) got.addAll(revisions(List.of(s.next()), 0));
        assertThat(got).isEqualTo(written);
        assertThat(s.responses.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(service.hub().failure()).isEmpty();
    }
}
