package io.synod.server.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.synod.mvcc.MvccSnapshot;
import io.synod.raft.RaftMessage.SnapshotRequest;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams a state-machine snapshot to a follower when the leader's Raft core asks for one (a
 * {@link SnapshotRequest} whose follower needs entries the leader compacted away). The core's
 * message only says where the snapshot sits in the log; the state itself is a fresh checkpoint of
 * the store taken when the send starts, which holds at least that index (the store never applies
 * less than the log compacted), so the follower ends up with every entry up to the message's index
 * and maybe more, which its driver then skips when the entries arrive.
 *
 * <p>Every transfer is its own client stream ({@link PeerProtocol#SNAPSHOT}) on the peer's
 * channel, sent chunk by chunk under gRPC flow control, so it never blocks the Raft message
 * stream. At most {@link SnapshotLimits#sendsMax()} run at once (one per follower); a request
 * beyond that fails at once. Every request ends with exactly one report (success when the
 * follower verified the state and handed it to its Raft member), so the leader resumes
 * replication or retries later.
 */
public final class SnapshotSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotSender.class);

    /** Where a snapshot of the local state comes from (a checkpoint of the MVCC store). */
    @FunctionalInterface
    public interface Source {
        MvccSnapshot open(int chunkBytes) throws IOException;
    }

    /** Receives the outcome of each request (normally {@code ReplicaDriver::reportSnapshot}). */
    @FunctionalInterface
    public interface Report {
        void snapshotSent(long peer, boolean success);
    }

    private final SnapshotLimits limits;
    private final LongFunction<Channel> channels;
    private final Source source;
    private final Report report;
    private final Semaphore slots;
    private final Set<Long> sending = ConcurrentHashMap.newKeySet();
    private final ExecutorService executor;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile boolean closed;

    public SnapshotSender(SnapshotLimits limits, LongFunction<Channel> channels, Source source, Report report) {
        this.limits = limits;
        this.channels = channels;
        this.source = source;
        this.report = report;
        this.slots = new Semaphore(limits.sendsMax());
        this.executor = Executors.newFixedThreadPool(limits.sendsMax(), r -> {
            var t = new Thread(r, "synod-snapshot-send");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts sending (never blocks the caller, the Raft loop); the outcome goes to the report. */
    public void send(SnapshotRequest request) {
        long peer = request.to();
        if (closed || !sending.add(peer)) {
            refuse(peer, closed ? "sender closed" : "a snapshot to this peer is already being sent");
            return;
        }
        if (!slots.tryAcquire()) {
            sending.remove(peer);
            refuse(peer, limits.sendsMax() + " snapshots are already being sent");
            return;
        }
        try {
            executor.execute(() -> {
                boolean ok = false;
                try {
                    ok = transfer(request);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IOException | RuntimeException e) {
                    log.warn("snapshot to {} failed: {}", Long.toUnsignedString(peer, 16), e.toString());
                } finally {
                    sending.remove(peer);
                    slots.release();
                    if (ok) sent.incrementAndGet();
                    report.snapshotSent(peer, ok);
                }
            });
        } catch (RuntimeException e) { // rejected: the executor was shut down
            sending.remove(peer);
            slots.release();
            refuse(peer, e.toString());
        }
    }

    private void refuse(long peer, String why) {
        refused.incrementAndGet();
        log.info("snapshot to {} not sent now: {}", Long.toUnsignedString(peer, 16), why);
        report.snapshotSent(peer, false);
    }

    private boolean transfer(SnapshotRequest request) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.transferTimeoutMillis());
        try (MvccSnapshot snap = source.open(limits.chunkBytes())) {
            long index = request.snapshot().meta().index();
            if (snap.appliedIndex() < index) {
                // Cannot happen while the log is compacted only below what the store holds; refuse rather than send a hole.
                log.error("store snapshot at {} is older than the log's snapshot {}; not sending", snap.appliedIndex(), index);
                return false;
            }
            log.info("sending snapshot (log index {}, state at {}) to {}", index, snap.appliedIndex(), Long.toUnsignedString(request.to(), 16));
            var done = new CompletableFuture<Void>();
            var ready = new Semaphore(0);
            ClientCall<byte[], byte[]> call = channels.apply(request.to()).newCall(PeerProtocol.SNAPSHOT,
                    CallOptions.DEFAULT.withDeadlineAfter(limits.transferTimeoutMillis(), TimeUnit.MILLISECONDS));
            var stream = (ClientCallStreamObserver<byte[]>) ClientCalls.asyncClientStreamingCall(call,
                    new ClientResponseObserver<byte[], byte[]>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<byte[]> requests) {
                            requests.setOnReadyHandler(ready::release);
                        }

                        @Override
                        public void onNext(byte[] value) {}

                        @Override
                        public void onError(Throwable t) {
                            done.completeExceptionally(t);
                            ready.release();
                        }

                        @Override
                        public void onCompleted() {
                            done.complete(null);
                            ready.release();
                        }
                    });
            try {
                if (!awaitReady(stream, ready, done)) return false;
                stream.onNext(SnapshotFrames.header(request));
                while (!snap.finished()) {
                    if (closed || System.nanoTime() > deadline) throw new TimeoutException("transfer deadline passed");
                    if (!awaitReady(stream, ready, done)) return false;
                    stream.onNext(SnapshotFrames.chunk(snap.nextChunk()));
                }
                stream.onCompleted();
                done.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                log.info("snapshot at {} delivered to {}", snap.appliedIndex(), Long.toUnsignedString(request.to(), 16));
                return true;
            } catch (ExecutionException | TimeoutException e) {
                stream.cancel("snapshot send failed", e);
                log.warn("snapshot to {} failed: {}", Long.toUnsignedString(request.to(), 16), e.getCause() == null ? e : e.getCause());
                return false;
            }
        }
    }

    /** Waits (bounded by the chunk timeout) until flow control accepts another frame; false if the call failed. */
    private boolean awaitReady(ClientCallStreamObserver<byte[]> stream, Semaphore ready, CompletableFuture<Void> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.chunkTimeoutMillis());
        while (!stream.isReady()) {
            long left = deadline - System.nanoTime();
            if (done.isDone() || left <= 0 || closed) {
                stream.cancel("snapshot receiver not accepting chunks", null);
                log.warn("snapshot send stalled or failed (done={}, closed={})", done.isDone(), closed);
                return false;
            }
            ready.tryAcquire(left, TimeUnit.NANOSECONDS);
        }
        return !done.isDone();
    }

    /** Snapshots delivered so far (for tests and metrics). */
    public long sentCount() {
        return sent.get();
    }

    /** Requests refused at once because of the limits or a send already in progress (for tests and metrics). */
    public long refusedCount() {
        return refused.get();
    }

    @Override
    public void close() {
        closed = true;
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
