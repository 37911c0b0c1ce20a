package io.synod.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RangeRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One client floods a follower with what is expensive to serve: full-keyspace reads it never
 * takes the answers of (each would otherwise leave megabytes in the member's send buffers),
 * full-keyspace reads it does take, watches up to and past the member's limit, and historical
 * watches on streams it stops reading. Meanwhile another client's puts and gets on the same member
 * must all succeed (within generous deadlines), the member's memory must grow by a bounded amount
 * (far less than the unread answers would take), and afterwards every member is healthy.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class FloodTest {
    static final int KEYS = 128;
    static final int VALUE_BYTES = 32 * 1024; // 4 MiB in all: every full read answers that much
    static final int STUCK_CONNECTIONS = 6;
    static final int STUCK_READS_PER_CONNECTION = 25; // 150 unread answers: 600 MiB if all were buffered
    static final int WATCHERS_MAX = 300;
    static final int HISTORY_STREAMS = 4;
    /** The member's budget for queued watch events, well below what the stalled historical watches ask for (4 x 10 x 4 MiB). */
    static final long WATCH_QUEUED_BYTES_MAX = 8L << 20;
    /** Allowed growth of heap and direct memory during the flood; the unread answers alone would take 600 MiB. */
    static final long GROWTH_MAX = 384L << 20;

    @TempDir Path dir;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void closeChannels() {
        for (ManagedChannel c : channels) c.shutdownNow();
    }

    private ManagedChannel channel(TestCluster cluster, int i) {
        URI u = cluster.configs.get(i).clientUrl();
        var ch = NettyChannelBuilder.forAddress(u.getHost(), u.getPort()).usePlaintext().flowControlWindow(64 * 1024)
                .maxInboundMessageSize(64 << 20).build();
        channels.add(ch);
        return ch;
    }

    static ByteString b(String s) {
        return ByteString.copyFromUtf8(s);
    }

    /** Heap in use after a full collection, plus direct buffers (where gRPC keeps what it has yet to send). */
    static long memoryInUse() {
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream().filter(p -> p.getName().equals("direct"))
                .mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        long netty = io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent.usedDirectMemory(); // -1 when netty does not count
        return heap + direct + Math.max(0, netty);
    }

    @Test
    void aFloodOfExpensiveReadsAndWatchesLeavesOtherClientsServedAndMemoryBounded() throws Exception {
        try (var cluster = new TestCluster(dir, 3, c -> c.withLimits(c.limits().withClients(c.limits().clients()
                .withExpensiveRequests(2, 4).withWatchers(WATCHERS_MAX, 100_000).withWatchQueuedBytesMax(WATCH_QUEUED_BYTES_MAX))))) {
            int leader = cluster.awaitLeader(10_000);
            int target = (leader + 1) % 3;
            var loader = KVGrpc.newBlockingStub(channel(cluster, target)).withDeadlineAfter(120, TimeUnit.SECONDS);
            ByteString value = ByteString.copyFrom(new byte[VALUE_BYTES]);
            for (int i = 0; i < KEYS; i++) loader.put(PutRequest.newBuilder().setKey(b(String.format("big/%04d", i))).setValue(value).build());
            // The other client's watch, from before the flood.
            var victimEvents = new LinkedBlockingQueue<WatchResponse>();
            var victimWatch = WatchGrpc.newStub(channel(cluster, target)).watch(collect(victimEvents));
            victimWatch.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(b("victim"))).build());
            WatchResponse victimCreated = victimEvents.poll(30, TimeUnit.SECONDS);
            assertThat(victimCreated).isNotNull();
            assertThat(victimCreated.getCanceled()).isFalse();
            long before = memoryInUse();

            // 1. Full reads whose answers are never taken, many per connection.
            List<ClientLimitsClusterTest.RawRange> stuck = new ArrayList<>();
            for (int c = 0; c < STUCK_CONNECTIONS; c++) {
                ManagedChannel ch = channel(cluster, target);
                for (int i = 0; i < STUCK_READS_PER_CONNECTION; i++) {
                    stuck.add(new ClientLimitsClusterTest.RawRange(ch, ClientLimitsClusterTest.everything(), false));
                }
            }
            // 2. Watches until the member refuses them (on keys without history, answers read).
            var watchStream = new LinkedBlockingQueue<WatchResponse>();
            StreamObserver<WatchRequest> watches = WatchGrpc.newStub(channel(cluster, target)).watch(collect(watchStream));
            for (int i = 0; i < WATCHERS_MAX + 50; i++) {
                watches.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(b("w/" + i))).build());
            }
            // 3. Historical watches of everything from revision 1 on streams that read one answer and stop.
            for (int s = 0; s < HISTORY_STREAMS; s++) {
                StreamObserver<WatchRequest> history = WatchGrpc.newStub(channel(cluster, target)).watch(stalled());
                for (int i = 0; i < 10; i++) {
                    history.onNext(WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(b("\0")).setRangeEnd(b("\0"))
                            .setStartRevision(1)).build());
                }
            }
            // 4. Full reads that are taken, as fast as two threads can send them.
            var stop = new AtomicBoolean();
            var refused = new AtomicLong();
            ExecutorService flooders = Executors.newFixedThreadPool(2);
            List<Future<?>> flooding = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                var kv = KVGrpc.newBlockingStub(channel(cluster, target));
                flooding.add(flooders.submit(() -> {
                    while (!stop.get()) {
                        try {
                            kv.withDeadlineAfter(30, TimeUnit.SECONDS).range(ClientLimitsClusterTest.everything());
                        } catch (StatusRuntimeException e) {
                            if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) throw e;
                            refused.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }

            // The other client: every put and get on the same member succeeds, and its watch sees every put.
            var victim = KVGrpc.newBlockingStub(channel(cluster, target));
            for (int i = 0; i < 50; i++) {
                ByteString v = b("v" + i);
                victim.withDeadlineAfter(30, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(b("victim")).setValue(v).build());
                var got = victim.withDeadlineAfter(30, TimeUnit.SECONDS).range(RangeRequest.newBuilder().setKey(b("victim")).build());
                assertThat(got.getKvs(0).getValue()).isEqualTo(v);
            }

            // While everything above is still held: bounded memory, and the limits were what bounded it.
            long during = memoryInUse();
            assertThat(during - before).as("memory growth during the flood (%d MiB before)", before >> 20).isLessThan(GROWTH_MAX);
            ExpensiveRequests gate = cluster.servers[target].expensiveRequests();
            assertThat(gate.stats().inUse()).isLessThanOrEqualTo(2);
            // All but the two admitted and the four queued were refused at once (the queued ones at their deadline).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (gate.stats().refused() < STUCK_CONNECTIONS * STUCK_READS_PER_CONNECTION - 2 && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(gate.stats().refused()).isGreaterThanOrEqualTo(STUCK_CONNECTIONS * STUCK_READS_PER_CONNECTION - 2);
            var hub = cluster.servers[target].watchHub().stats();
            assertThat(hub.synced() + hub.unsynced()).isLessThanOrEqualTo(WATCHERS_MAX);
            // Over the budget only by each stream's reserve (256 KiB) plus one revision's events.
            assertThat(hub.queuedBytes()).isLessThan(WATCH_QUEUED_BYTES_MAX + (HISTORY_STREAMS + 2) * ((256 << 10) + 2 * VALUE_BYTES));
            int seen = 0;
            while (seen < 50) {
                WatchResponse r = victimEvents.poll(30, TimeUnit.SECONDS);
                assertThat(r).as("the victim's watch event %d", seen).isNotNull();
                seen += r.getEventsCount();
            }
            assertThat(seen).isEqualTo(50);
            int createdWatches = 0, refusedWatches = 0;
            for (int i = 0; i < WATCHERS_MAX + 50; i++) {
                WatchResponse r = watchStream.poll(30, TimeUnit.SECONDS);
                assertThat(r).as("the answer to watch create %d", i).isNotNull();
                assertThat(r.getCreated()).isTrue();
                if (r.getCanceled()) refusedWatches++;
                else createdWatches++;
            }
            assertThat(refusedWatches).isGreaterThanOrEqualTo(50); // the historical watches took some places too
            assertThat(createdWatches).isLessThanOrEqualTo(WATCHERS_MAX);

            stop.set(true);
            for (Future<?> f : flooding) f.get(60, TimeUnit.SECONDS);
            flooders.shutdown();
            assertThat(refused.get()).as("full reads turned away while the stuck ones held the permits").isPositive();

            // Once the stuck reader goes away, full reads are served again.
            for (var r : stuck) r.call.cancel("test: flood over", null);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try {
                    assertThat(victim.withDeadlineAfter(30, TimeUnit.SECONDS).range(ClientLimitsClusterTest.everything()).getKvsCount())
                            .isEqualTo(KEYS + 1);
                    break;
                } catch (StatusRuntimeException e) {
                    if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED || System.nanoTime() > deadline) throw e;
                    Thread.sleep(100);
                }
            }

            // Every member is still a working member.
            for (SynodServer s : cluster.servers) {
                assertThat(s.isClosed()).isFalse();
                assertThat(s.driver().failure()).isNull();
            }
            long rev = victim.withDeadlineAfter(30, TimeUnit.SECONDS).put(PutRequest.newBuilder().setKey(b("after")).setValue(b("1")).build())
                    .getHeader().getRevision();
            for (int i = 0; i < 3; i++) {
                var r = KVGrpc.newBlockingStub(channel(cluster, i)).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .range(RangeRequest.newBuilder().setKey(b("after")).build());
                assertThat(r.getHeader().getRevision()).isGreaterThanOrEqualTo(rev);
            }
        }
    }

    private static StreamObserver<WatchResponse> collect(LinkedBlockingQueue<WatchResponse> into) {
        return new StreamObserver<>() {
            @Override
            public void onNext(WatchResponse r) {
                into.add(r);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }

    /** A watch client that takes one response and then stops reading. */
    private static ClientResponseObserver<WatchRequest, WatchResponse> stalled() {
        return new ClientResponseObserver<>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchRequest> call) {
                call.disableAutoRequestWithInitial(1);
            }

            @Override
            public void onNext(WatchResponse r) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }
}
