package io.synod.server.watch;

import io.etcd.jetcd.api.ResponseHeader;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.Changes;
import io.synod.mvcc.MvccStore;
import io.synod.mvcc.watch.EventHistory;
import io.synod.server.StoreHolder;
import io.synod.mvcc.watch.WatchHub;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

/**
 * etcd's Watch service: each bidirectional {@code Watch} call is a {@link WatchSession} carrying
 * any number of watches, served from this member's applied state through a {@link WatchHub}
 * attached to the local MVCC store. Watches therefore work on every member, leader or not, and a
 * client that reconnects elsewhere resumes from its last revision + 1 against that member's
 * history. Sessions are drained by a small pool of sender threads, never by the apply thread; a
 * ticker drives progress_notify.
 */
public final class WatchService extends WatchGrpc.WatchImplBase implements AutoCloseable {
    final WatchHub hub;
    final LongFunction<ResponseHeader> header;
    final WatchServiceOptions options;
    final ExecutorService senders;
    private final ScheduledExecutorService ticker;
    final Set<WatchSession> sessions = ConcurrentHashMap.newKeySet();

    /** Protobuf events recently sent, by revision and whether they carry prev_kv; see {@link #protoEvent}. */
    private final CachedEvent[] eventCache = new CachedEvent[EVENT_CACHE_SLOTS];
    static final int EVENT_CACHE_SLOTS = 4096;

    private record CachedEvent(long main, long sub, boolean prevKv, io.etcd.jetcd.api.Event proto) {}

    /**
     * The protobuf form of an event, shared by every watcher that is sent it: with 1,000 watchers on
     * a prefix each write was converted (its key and value copied) 1,000 times. An MVCC revision
     * names exactly one change, so (revision, with or without prev_kv) is a safe key. A small
     * direct-mapped table: a slot holds an immutable record, so racing threads at worst convert twice.
     */
    io.etcd.jetcd.api.Event protoEvent(io.synod.mvcc.Event e) {
        long main = e.revision().main(), sub = e.revision().sub();
        boolean prev = e.prevKv().isPresent();
        int slot = (int) ((main * 31 + sub) & (EVENT_CACHE_SLOTS - 1));
        CachedEvent c = eventCache[slot];
        if (c != null && c.main() == main && c.sub() == sub && c.prevKv() == prev) return c.proto();
        var proto = WatchProto.event(e);
        eventCache[slot] = new CachedEvent(main, sub, prev, proto);
        return proto;
    }

    /**
     * Attaches a hub to the member's store, through installs of snapshots; {@code header} builds
     * etcd's response header for a revision.
     */
    public WatchService(StoreHolder store, LongFunction<ResponseHeader> header, WatchServiceOptions options) {
        EventHistory history = new EventHistory() {
            @Override
            public long currentRevision() {
                return store.read(MvccStore::currentRevision);
            }

            @Override
            public long compactRevision() {
                return store.read(MvccStore::compactRevision);
            }

            @Override
            public Changes changesSince(long fromRevision) {
                return store.read(s -> s.changesSince(fromRevision));
            }

            @Override
            public io.synod.mvcc.Event withPrevKv(io.synod.mvcc.Event e) {
                return store.read(s -> s.withPrevKv(e));
            }
        };
        this.hub = WatchHub.attach(history, l -> {
            store.addListener(l);
            return () -> store.removeListener(l);
        }, options.hub());
        store.addSwapListener(next -> hub.storeReplaced(next.currentRevision()));
        this.header = header;
        this.options = options;
        var n = new AtomicInteger();
        this.senders = Executors.newFixedThreadPool(options.senderThreads(), r -> daemon(r, "synod-watch-send-" + n.incrementAndGet()));
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "synod-watch-progress"));
        ticker.scheduleAtFixedRate(() -> sessions.forEach(WatchSession::progressTick), options.progressIntervalMillis(),
                options.progressIntervalMillis(), TimeUnit.MILLISECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        var t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    public WatchHub hub() {
        return hub;
    }

    /** etcd clients ask for "cancel my watches when this member has no leader" with this metadata. */
    static final io.grpc.Metadata.Key<String> HAS_LEADER = io.grpc.Metadata.Key.of("hasleader", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    static final io.grpc.Context.Key<Boolean> REQUIRE_LEADER = io.grpc.Context.key("synod-require-leader");

    /** Copies etcd's {@code hasleader} metadata into the call's context for the sessions to read. */
    public static io.grpc.ServerInterceptor requireLeaderInterceptor() {
        return new io.grpc.ServerInterceptor() {
            @Override
            public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call, io.grpc.Metadata headers,
                    io.grpc.ServerCallHandler<Q, A> next) {
                boolean require = "true".equals(headers.get(HAS_LEADER));
                return io.grpc.Contexts.interceptCall(io.grpc.Context.current().withValue(REQUIRE_LEADER, require), call, headers, next);
            }
        };
    }

    private volatile long leaderlessSinceNanos;

    /**
     * etcd's require-leader mode for watches: while this member has had no leader for
     * {@code noLeaderMillis}, every watch call that asked for it ({@code hasleader: true}, as
     * {@code etcdctl watch} does) is ended with UNAVAILABLE "etcdserver: no leader", so a client
     * partitioned with a minority moves to a member that can see new events instead of waiting on
     * a frozen one. Checked every {@code periodMillis}.
     */
    public void monitorLeader(java.util.function.LongSupplier leader, long noLeaderMillis, long periodMillis) {
        ticker.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            if (leader.getAsLong() != 0) {
                leaderlessSinceNanos = 0;
                return;
            }
            if (leaderlessSinceNanos == 0) leaderlessSinceNanos = now;
            if (now - leaderlessSinceNanos < TimeUnit.MILLISECONDS.toNanos(noLeaderMillis)) return;
            for (WatchSession s : sessions) {
                if (s.requireLeader) s.end(Status.UNAVAILABLE.withDescription("etcdserver: no leader"));
            }
        }, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public StreamObserver<WatchRequest> watch(StreamObserver<WatchResponse> responses) {
        return new WatchSession(this, (ServerCallStreamObserver<WatchResponse>) responses);
    }

    /**
     * Ends every Watch call with UNAVAILABLE ("etcdserver: server stopped"), which etcd clients answer
     * by resuming their watches on another member from their last revision + 1, then stops the hub
     * and the threads. Call it before shutting the gRPC servers down: a call the server cancels
     * reaches clients as CANCELLED, on which jetcd gives up instead of resuming.
     */
    @Override
    public void close() {
        ticker.shutdownNow();
        for (WatchSession s : sessions) s.end(Status.UNAVAILABLE.withDescription("etcdserver: server stopped"));
        senders.shutdown();
        try {
            senders.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (WatchSession s : sessions) s.close();
        hub.close();
        senders.shutdownNow();
    }
}
