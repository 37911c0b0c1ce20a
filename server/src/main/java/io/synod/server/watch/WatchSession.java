package io.synod.server.watch;

import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.Event;
import io.synod.mvcc.watch.WatchHub;
import io.synod.mvcc.watch.WatchStream;
import io.synod.mvcc.watch.WatchUpdate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One etcd Watch RPC: reads create / cancel / progress requests and sends the hub stream's
 * updates as WatchResponses, in queue order, only while gRPC says the client can take more
 * ({@code isReady}). A client that stops reading therefore stops the sending; the hub's bounded
 * queue then fills and its watchers fall back to history, so a slow client costs bounded memory.
 * Requests are read one at a time (automatic inbound flow control is off) and reading pauses
 * while too many control responses wait, which is how etcd's bounded control channel pushes back.
 *
 * <p>Threads: requests arrive on gRPC's executor; sending runs on the service's sender pool,
 * at most one drain per session at a time (the {@code wip} counter), started by the hub when it
 * queues something and by gRPC when the transport becomes ready.
 */
final class WatchSession implements StreamObserver<WatchRequest> {
    private static final Logger log = LoggerFactory.getLogger(WatchSession.class);

    private final WatchService service;
    private final ServerCallStreamObserver<WatchResponse> out;
    private final WatchStream stream;
    /** Held while registering a watch and while converting updates, so a watch's fragment choice is known before its first events are converted. */
    private final ReentrantLock convertLock = new ReentrantLock();
    /** Watch ids whose create asked for fragmented responses; guarded by convertLock. */
    private final Set<Long> fragmented = new HashSet<>();
    /** Responses converted from one update and not yet sent; only the draining thread touches it. */
    private final ArrayDeque<WatchResponse> pending = new ArrayDeque<>();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicBoolean inboundPaused = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set when the service stops: the drain ends the call with this status instead of sending. */
    private volatile Optional<Status> ending = Optional.empty();

    /** Whether the client asked for etcd's require-leader mode (metadata {@code hasleader: true}). */
    final boolean requireLeader;

    WatchSession(WatchService service, ServerCallStreamObserver<WatchResponse> out) {
        this.service = service;
        this.out = out;
        this.requireLeader = Boolean.TRUE.equals(WatchService.REQUIRE_LEADER.get());
        service.sessions.add(this); // before the cancel handler can remove it
        out.disableAutoRequest();
        this.stream = service.hub.openStream(this::signal);
        out.setOnReadyHandler(this::signal);
        out.setOnCancelHandler(this::close);
        out.request(1);
    }

    // ---- requests (gRPC executor) ---------------------------------------------------------------

    @Override
    public void onNext(WatchRequest request) {
        switch (request.getRequestUnionCase()) {
            case CREATE_REQUEST -> create(request);
            case CANCEL_REQUEST -> stream.cancel(request.getCancelRequest().getWatchId());
            case PROGRESS_REQUEST -> stream.requestProgress();
            default -> {
                // etcd ignores requests it does not understand rather than ending the stream.
            }
        }
        if (stream.queuedControls() < service.options.queuedControlsMax()) {
            out.request(1);
        } else {
            inboundPaused.set(true);
            signal(); // the drain resumes reading once the backlog is below the limit
        }
    }

    private void create(WatchRequest request) {
        var create = request.getCreateRequest();
        convertLock.lock();
        try {
            long id = stream.watch(WatchProto.spec(create));
            if (id != WatchHub.NO_WATCH_ID && WatchProto.fragment(create)) fragmented.add(id);
        } finally {
            convertLock.unlock();
        }
    }

    /** The client half-closed; as in etcd, its watches keep running until the call ends. */
    @Override
    public void onCompleted() {}

    @Override
    public void onError(Throwable t) {
        close();
    }

    void progressTick() {
        stream.progressTick();
    }

    /**
     * Ends the call with {@code status} (from the sending thread, so it never races a send). The
     * service uses UNAVAILABLE when the member stops, which clients treat as "reconnect and resume".
     */
    void end(Status status) {
        ending = Optional.of(status);
        signal();
    }

    void close() {
        if (!closed.compareAndSet(false, true)) return;
        stream.close();
        service.sessions.remove(this);
    }

    // ---- responses (sender pool) ----------------------------------------------------------------

    private void signal() {
        if (wip.getAndIncrement() != 0) return;
        try {
            service.senders.execute(this::drainLoop);
        } catch (RejectedExecutionException e) {
            close(); // the service is shutting down
        }
    }

    private void drainLoop() {
        int missed = 1;
        while (true) {
            drain();
            missed = wip.addAndGet(-missed);
            if (missed == 0) return;
        }
    }

    private void drain() {
        if (closed.get()) return;
        if (ending.isPresent()) {
            try {
                out.onError(ending.get().asRuntimeException());
            } catch (RuntimeException e) {
                // already cancelled by the client
            }
            close();
            return;
        }
        try {
            while (out.isReady()) {
                WatchResponse r = pending.poll();
                if (r == null) {
                    List<WatchUpdate> batch = new ArrayList<>();
                    for (Optional<WatchUpdate> u; batch.size() < COALESCE_UPDATES_MAX && (u = stream.poll()).isPresent();) batch.add(u.get());
                    if (batch.isEmpty()) break;
                    for (WatchUpdate u : coalesce(batch)) pending.addAll(responses(u));
                    r = pending.poll();
                }
                out.onNext(r);
            }
        } catch (StatusRuntimeException | IllegalStateException e) {
            close(); // the call was cancelled or closed under us
            return;
        } catch (RuntimeException e) {
            log.warn("watch stream failed; closing it", e);
            close();
            return;
        }
        if (inboundPaused.get() && stream.queuedControls() < service.options.queuedControlsMax() && inboundPaused.compareAndSet(true, false)) {
            out.request(1);
        }
    }

    /** Updates taken from the stream at once when it has a backlog, so a lagging watcher's revisions can share a response. */
    static final int COALESCE_UPDATES_MAX = 4096;

    /**
     * Merges each watcher's queued event updates into one, at the place of its first: a watcher
     * that fell behind gets its backlog in few responses instead of one gRPC message per revision
     * (1,000 watchers on a prefix made 1,000 messages per write; etcd batches a slow watcher's
     * events too). Each watcher's own order is kept, which is what etcd promises; updates of
     * different watchers may pass each other. Anything but events (created, canceled, progress,
     * refusal) is a barrier that nothing merges across, so a cancel or a progress notification
     * still follows every event queued before it.
     */
    static List<WatchUpdate> coalesce(List<WatchUpdate> batch) {
        if (batch.size() < 2) return batch;
        List<WatchUpdate> out = new ArrayList<>(batch.size());
        List<List<Event>> merged = new ArrayList<>(batch.size()); // parallel to out: events merged into an Events slot, else null
        java.util.Map<Long, Integer> open = new java.util.HashMap<>();
        for (WatchUpdate u : batch) {
            if (u instanceof WatchUpdate.Events e) {
                Integer at = open.get(e.watchId());
                if (at != null) {
                    List<Event> events = merged.get(at);
                    if (events == null) {
                        events = new ArrayList<>(((WatchUpdate.Events) out.get(at)).events());
                        merged.set(at, events);
                    }
                    events.addAll(e.events());
                    continue;
                }
                open.put(e.watchId(), out.size());
            } else {
                open.clear();
            }
            out.add(u);
            merged.add(null);
        }
        for (int i = 0; i < out.size(); i++) {
            if (merged.get(i) != null) out.set(i, new WatchUpdate.Events(out.get(i).watchId(), merged.get(i)));
        }
        return out;
    }

    private List<WatchResponse> responses(WatchUpdate u) {
        convertLock.lock();
        try {
            return switch (u) {
                case WatchUpdate.Created c -> List.of(base(c.revision(), c.watchId()).setCreated(true).build());
                case WatchUpdate.Refused r ->
                        List.of(base(r.revision(), r.watchId()).setCreated(true).setCanceled(true).setCancelReason(r.reason()).build());
                case WatchUpdate.Canceled c -> {
                    fragmented.remove(c.watchId());
                    yield List.of(base(c.revision(), c.watchId()).setCanceled(true).setCompactRevision(c.compactRevision())
                            .setCancelReason(c.reason()).build());
                }
                case WatchUpdate.Progress p -> List.of(base(p.revision(), p.watchId()).build());
                case WatchUpdate.Events e -> events(e, fragmented.contains(e.watchId()));
            };
        } finally {
            convertLock.unlock();
        }
    }

    private WatchResponse.Builder base(long revision, long watchId) {
        return WatchResponse.newBuilder().setHeader(service.header.apply(revision)).setWatchId(watchId);
    }

    /**
     * Responses for one batch of events: split at revision boundaries so that none exceeds
     * {@code responseBytesMax} (a revision is never split across plain responses), and a single
     * revision that is larger still is fragmented if the watch asked for it (all parts but the last
     * carry {@code fragment}, as etcd's clients expect), else sent whole.
     */
    private List<WatchResponse> events(WatchUpdate.Events e, boolean fragment) {
        int limit = service.options.responseBytesMax();
        List<WatchResponse> out = new ArrayList<>();
        List<io.etcd.jetcd.api.Event> current = new ArrayList<>();
        long currentBytes = 0;
        List<Event> events = e.events();
        int i = 0;
        while (i < events.size()) {
            long rev = events.get(i).revision().main();
            List<io.etcd.jetcd.api.Event> group = new ArrayList<>();
            long groupBytes = 0;
            for (; i < events.size() && events.get(i).revision().main() == rev; i++) {
                var pe = service.protoEvent(events.get(i));
                group.add(pe);
                groupBytes += pe.getSerializedSize() + 8; // field tag and length prefix
            }
            if (!current.isEmpty() && currentBytes + groupBytes > limit) {
                out.add(eventResponse(e.watchId(), current, false));
                current = new ArrayList<>();
                currentBytes = 0;
            }
            if (groupBytes > limit && fragment) {
                fragments(e.watchId(), group, limit, out);
            } else {
                current.addAll(group);
                currentBytes += groupBytes;
            }
        }
        if (!current.isEmpty()) out.add(eventResponse(e.watchId(), current, false));
        return out;
    }

    private void fragments(long watchId, List<io.etcd.jetcd.api.Event> group, int limit, List<WatchResponse> out) {
        List<io.etcd.jetcd.api.Event> part = new ArrayList<>();
        long bytes = 0;
        for (int j = 0; j < group.size(); j++) {
            long size = group.get(j).getSerializedSize() + 8;
            if (!part.isEmpty() && bytes + size > limit) {
                out.add(eventResponse(watchId, part, true));
                part = new ArrayList<>();
                bytes = 0;
            }
            part.add(group.get(j));
            bytes += size;
        }
        out.add(eventResponse(watchId, part, false));
    }

    private WatchResponse eventResponse(long watchId, List<io.etcd.jetcd.api.Event> events, boolean fragment) {
        long revision = events.get(events.size() - 1).getKv().getModRevision();
        var b = base(revision, watchId).addAllEvents(events);
        if (fragment) WatchProto.markFragment(b);
        return b.build();
    }
}
