package io.synod.server.transport;

import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.synod.mvcc.SnapshotReceiver;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftMessage.SnapshotRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The follower's side of snapshot transfer: receives a {@link PeerProtocol#SNAPSHOT} stream into
 * a staging directory (chunk order and checksums checked as chunks arrive, the whole stream at the
 * end, see {@link SnapshotReceiver}), unpacks it, keeps it as the <em>staged</em> state, and only
 * then hands the leader's {@link SnapshotRequest} to the local Raft member. The Raft member may
 * decline it; if it accepts, the driver installs the staged state on its own thread
 * ({@link #take(long)}), in order with the rest of its work.
 *
 * <p>One staged state is kept: the one with the highest applied index. Any staged state that holds
 * at least a request's log index is a correct state for that request (every snapshot is a prefix of
 * the same committed log), so a newer arrival may replace an older one even if the older one's
 * request is still queued. Everything here is garbage after a restart and is deleted on start.
 */
public final class SnapshotInbox {
    private static final Logger log = LoggerFactory.getLogger(SnapshotInbox.class);
    private static final byte[] EMPTY = new byte[0];
    private static final String STAGED_PREFIX = "staged-";

    /** A verified, unpacked snapshot waiting for the driver. */
    public record Staged(Path dir, long appliedIndex) {}

    private final long localId;
    private final Path stagingDir;
    private final SnapshotLimits limits;
    private final Predicate<RaftMessage> deliver;
    private final AtomicInteger receiving = new AtomicInteger();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    // Guarded by this.
    private Optional<Staged> staged = Optional.empty();

    /**
     * @param stagingDir where streams are spooled and unpacked; emptied now (leftovers of a previous
     *                   process cannot be resumed)
     * @param deliver    hands the leader's request to the Raft member; false if it was dropped
     */
    public SnapshotInbox(long localId, Path stagingDir, SnapshotLimits limits, Predicate<RaftMessage> deliver) throws IOException {
        this.localId = localId;
        this.stagingDir = stagingDir;
        this.limits = limits;
        this.deliver = deliver;
        if (Files.exists(stagingDir)) deleteTree(stagingDir);
        Files.createDirectories(stagingDir);
    }

    public ServerServiceDefinition definition() {
        return ServerServiceDefinition.builder(PeerProtocol.SNAPSHOT_SERVICE)
                .addMethod(PeerProtocol.SNAPSHOT, ServerCalls.asyncClientStreamingCall(this::receive))
                .build();
    }

    /** Takes the staged state if it holds at least {@code minAppliedIndex}; the caller owns (and moves or deletes) its directory. */
    public synchronized Optional<Staged> take(long minAppliedIndex) {
        if (staged.isEmpty() || staged.get().appliedIndex() < minAppliedIndex) return Optional.empty();
        Optional<Staged> s = staged;
        staged = Optional.empty();
        return s;
    }

    /** Drops a staged state that holds nothing beyond {@code appliedIndex} (the store already has it). */
    public synchronized void discardUpTo(long appliedIndex) {
        if (staged.isPresent() && staged.get().appliedIndex() <= appliedIndex) {
            deleteQuietly(staged.get().dir());
            staged = Optional.empty();
        }
    }

    /** Streams refused or failed (bad frames, limits, verification), for tests and metrics. */
    public long rejectedCount() {
        return rejected.get();
    }

    StreamObserver<byte[]> receive(StreamObserver<byte[]> response) {
        if (receiving.incrementAndGet() > limits.receivesMax()) {
            receiving.decrementAndGet();
            rejected.incrementAndGet();
            response.onError(Status.RESOURCE_EXHAUSTED.withDescription("already receiving " + limits.receivesMax() + " snapshot(s)")
                    .asRuntimeException());
            return new StreamObserver<>() {
                @Override public void onNext(byte[] value) {}
                @Override public void onError(Throwable t) {}
                @Override public void onCompleted() {}
            };
        }
        return new Transfer(response);
    }

    /** One incoming stream; gRPC calls its methods one at a time. */
    private final class Transfer implements StreamObserver<byte[]> {
        private final StreamObserver<byte[]> response;
        private Optional<SnapshotRequest> header = Optional.empty();
        private Optional<SnapshotReceiver> receiver = Optional.empty();
        private boolean finished;

        Transfer(StreamObserver<byte[]> response) {
            this.response = response;
        }

        @Override
        public void onNext(byte[] frame) {
            if (finished) return;
            try {
                switch (SnapshotFrames.decode(frame)) {
                    case SnapshotFrames.Header h -> onHeader(h.request());
                    case SnapshotFrames.Chunk c -> {
                        if (receiver.isEmpty()) throw new IllegalArgumentException("chunk before the snapshot header");
                        receiver.get().accept(c.chunk());
                    }
                }
            } catch (IllegalArgumentException e) {
                fail(Status.INVALID_ARGUMENT, e.getMessage());
            } catch (SnapshotReceiver.SnapshotException e) {
                fail(Status.DATA_LOSS, e.getMessage());
            } catch (IOException | UncheckedIOException e) {
                fail(Status.INTERNAL, e.toString());
            }
        }

        private void onHeader(SnapshotRequest h) throws IOException {
            if (header.isPresent()) throw new IllegalArgumentException("second snapshot header in one stream");
            if (h.to() != localId) throw new IllegalArgumentException("snapshot for member " + Long.toUnsignedString(h.to(), 16));
            header = Optional.of(h);
            receiver = Optional.of(new SnapshotReceiver(stagingDir, new SnapshotReceiver.Limits(limits.receiveBytesMax(), limits.receiveFilesMax())));
        }

        @Override
        public void onError(Throwable t) {
            // The sender gave up (or went away); it reports the failure to its own Raft member.
            if (finished) return;
            finished = true;
            closeReceiver();
            receiving.decrementAndGet();
        }

        @Override
        public void onCompleted() {
            if (finished) return;
            if (header.isEmpty() || receiver.isEmpty()) {
                fail(Status.INVALID_ARGUMENT, "stream ended before the snapshot header");
                return;
            }
            SnapshotRequest h = header.get();
            Path target = stagingDir.resolve(STAGED_PREFIX + h.snapshot().meta().index() + "-" + sequence.incrementAndGet());
            long applied;
            try {
                applied = receiver.get().installInto(target);
            } catch (SnapshotReceiver.SnapshotException e) {
                fail(Status.DATA_LOSS, e.getMessage());
                return;
            } catch (IOException e) {
                fail(Status.INTERNAL, e.toString());
                return;
            }
            if (applied < h.snapshot().meta().index()) {
                deleteQuietly(target);
                fail(Status.INVALID_ARGUMENT, "state at " + applied + " is older than the snapshot's log index " + h.snapshot().meta().index());
                return;
            }
            stage(new Staged(target, applied));
            // The data names the state for logs only: the driver takes whatever staged state is new enough.
            byte[] note = target.getFileName().toString().getBytes(StandardCharsets.UTF_8);
            var request = new SnapshotRequest(h.from(), h.to(), h.term(), new io.synod.consensus.Snapshot(h.snapshot().meta(), note));
            if (!deliver.test(request)) {
                fail(Status.UNAVAILABLE, "raft inbox full; snapshot dropped");
                return;
            }
            finished = true;
            receiving.decrementAndGet();
            log.info("snapshot (log index {}, state at {}) from {} received", h.snapshot().meta().index(), applied,
                    Long.toUnsignedString(h.from(), 16));
            response.onNext(EMPTY);
            response.onCompleted();
        }

        private void fail(Status status, String why) {
            if (finished) return;
            finished = true;
            rejected.incrementAndGet();
            closeReceiver();
            receiving.decrementAndGet();
            log.warn("snapshot receive failed: {}", why);
            response.onError(status.withDescription("snapshot: " + why).asRuntimeException());
        }

        private void closeReceiver() {
            if (receiver.isEmpty()) return;
            try {
                receiver.get().close();
            } catch (IOException e) {
                log.warn("cannot delete snapshot spool: {}", e.toString());
            }
        }
    }

    private synchronized void stage(Staged s) {
        if (staged.isPresent() && staged.get().appliedIndex() >= s.appliedIndex()) {
            deleteQuietly(s.dir()); // what we hold already serves any request this one could
            return;
        }
        staged.ifPresent(old -> deleteQuietly(old.dir()));
        staged = Optional.of(s);
    }

    static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", dir, e.toString());
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
