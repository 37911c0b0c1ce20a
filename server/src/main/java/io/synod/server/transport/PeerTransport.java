package io.synod.server.transport;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.synod.consensus.Message;
import io.synod.raft.RaftMessage;
import io.synod.replica.ReplicaTransport;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends Raft messages to the other members over gRPC. Each peer has one channel (gRPC reconnects
 * it by itself), one bounded queue and one sender thread that batches what is queued into a frame
 * and writes it to a long-lived client stream: frames stay in order and the sender never waits a
 * round trip between them, so a leader's pipelined appends really are in flight together. A stream
 * that breaks, or that flow control keeps closed past the send timeout, drops the frame, reports the
 * peer unreachable
 * (so the leader falls back from pipelining to probing) and backs off; Raft's own retransmission
 * recovers the loss. The channels are also used to forward client writes to the leader.
 * Snapshot requests do not travel on the message stream: they go to the snapshot sink (normally
 * {@link SnapshotSender#send}), which streams the state out of band.
 */
public final class PeerTransport implements ReplicaTransport, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);
    /** How often an idle sender thread checks whether the transport was closed. */
    static final long IDLE_POLL_MILLIS = 100;

    private final class Peer {
        final long id;
        final ManagedChannel channel;
        final ArrayBlockingQueue<RaftMessage> queue = new ArrayBlockingQueue<>(limits.sendQueueDepthMax());
        final Thread sender;
        volatile boolean reachable = true;

        Peer(long id, InetSocketAddress address) {
            this.id = id;
            var builder = NettyChannelBuilder.forAddress(address).maxInboundMessageSize(limits.frameBytesMax());
            // With peer TLS every channel (Raft frames, forwarded client requests, snapshots) is encrypted and
            // verifies the other member's certificate and host name against the peer CA.
            if (tls.isPresent()) builder.sslContext(tls.get());
            else builder.usePlaintext();
            this.channel = builder.build();
            this.sender = new Thread(this::sendLoop, "synod-peer-send-" + Long.toUnsignedString(id, 16));
            this.sender.setDaemon(true);
        }

        void sendLoop() {
            var batch = new ArrayList<RaftMessage>(limits.batchMessagesMax());
            while (!closed) {
                try {
                    RaftMessage first = queue.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                    if (first == null) continue;
                    batch.add(first);
                    long bytes = first.sizeBytes();
                    // Fill the frame up to half its limit by the messages' own estimates, leaving room for encoding
                    // overhead; a single message may exceed that (RaftConfig bounds it below frameBytesMax).
                    while (batch.size() < limits.batchMessagesMax()) {
                        RaftMessage next = queue.peek();
                        if (next == null || bytes + next.sizeBytes() > limits.frameBytesMax() / 2) break;
                        batch.add(queue.poll());
                        bytes += next.sizeBytes();
                    }
                    deliver(batch);
                } catch (InterruptedException e) {
                    return;
                } finally {
                    batch.clear();
                }
            }
        }

        // The stream to this peer, used by the sender thread only; the callbacks flag it broken.
        private ClientCallStreamObserver<byte[]> stream;
        private volatile boolean streamBroken;
        private final Semaphore readySignal = new Semaphore(0);

        private void deliver(List<RaftMessage> batch) throws InterruptedException {
            if (stream != null && streamBroken) {
                stream = null;
                Thread.sleep(limits.retryBackoffMillis()); // do not spin reconnecting to a dead peer
            }
            if (stream == null) openStream();
            if (!awaitReady()) {
                fail("no frame accepted within " + limits.sendTimeoutMillis() + " ms");
                return;
            }
            try {
                stream.onNext(RaftMessageCodec.encodeBatch(batch));
            } catch (RuntimeException e) {
                fail(e.getMessage());
                return;
            }
            if (!reachable) log.info("peer {} reachable again", Long.toUnsignedString(id, 16));
            reachable = true;
        }

        private void openStream() {
            streamBroken = false;
            readySignal.drainPermits();
            ClientCall<byte[], byte[]> call = channel.newCall(PeerProtocol.STREAM, CallOptions.DEFAULT);
            stream = (ClientCallStreamObserver<byte[]>) ClientCalls.asyncClientStreamingCall(call, new ClientResponseObserver<byte[], byte[]>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<byte[]> requests) {
                    requests.setOnReadyHandler(readySignal::release);
                }

                @Override
                public void onNext(byte[] value) {}

                @Override
                public void onError(Throwable t) {
                    streamBroken = true;
                    readySignal.release();
                    if (closed) return;
                    if (reachable) log.warn("peer {} unreachable: {}", Long.toUnsignedString(id, 16), t.getMessage());
                    reachable = false;
                    unreachable.accept(id);
                }

                @Override
                public void onCompleted() {
                    streamBroken = true;
                    readySignal.release();
                }
            });
        }

        /** Waits (bounded) until gRPC's flow control lets the stream take another frame. */
        private boolean awaitReady() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.sendTimeoutMillis());
            while (!stream.isReady()) {
                long left = deadline - System.nanoTime();
                if (streamBroken || left <= 0) return false;
                readySignal.tryAcquire(left, TimeUnit.NANOSECONDS);
            }
            return !streamBroken;
        }

        private void fail(String reason) throws InterruptedException {
            if (stream != null) stream.cancel("peer send failed: " + reason, null);
            stream = null;
            if (closed) return;
            if (reachable) log.warn("peer {} unreachable: {}", Long.toUnsignedString(id, 16), reason);
            reachable = false;
            unreachable.accept(id);
            Thread.sleep(limits.retryBackoffMillis());
        }
    }

    private final TransportLimits limits;
    private final LongConsumer unreachable;
    private final Consumer<RaftMessage.SnapshotRequest> snapshots;
    private final Optional<SslContext> tls;
    private final Map<Long, Peer> peers = new TreeMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param peerAddresses every other member's peer address, by member id
     * @param unreachable   called (on a sender thread) with a peer's id when a delivery to it failed
     */
    public PeerTransport(Map<Long, InetSocketAddress> peerAddresses, TransportLimits limits, LongConsumer unreachable) {
        this(peerAddresses, limits, unreachable, s -> {
            throw new IllegalStateException("this transport sends no snapshots: " + s);
        });
    }

    /**
     * @param snapshots takes each snapshot request the core emits (on the Raft loop's thread; must not block)
     */
    public PeerTransport(Map<Long, InetSocketAddress> peerAddresses, TransportLimits limits, LongConsumer unreachable,
            Consumer<RaftMessage.SnapshotRequest> snapshots) {
        this(peerAddresses, limits, unreachable, snapshots, Optional.empty());
    }

    /**
     * @param tls the client TLS context for every peer ({@link io.synod.server.security.TlsContexts#client}),
     *            empty for plaintext
     */
    public PeerTransport(Map<Long, InetSocketAddress> peerAddresses, TransportLimits limits, LongConsumer unreachable,
            Consumer<RaftMessage.SnapshotRequest> snapshots, Optional<SslContext> tls) {
        this.tls = tls;
        this.limits = limits;
        this.unreachable = unreachable;
        this.snapshots = snapshots;
        peerAddresses.forEach((id, addr) -> peers.put(id, new Peer(id, addr)));
    }

    public void start() {
        for (Peer p : peers.values()) p.sender.start();
    }

    @Override
    public void send(List<Message> messages) {
        for (Message m : messages) {
            if (m instanceof RaftMessage.SnapshotRequest s) {
                snapshots.accept(s);
                continue;
            }
            Peer p = peers.get(m.to());
            if (p == null || !p.queue.offer((RaftMessage) m)) dropped.incrementAndGet();
        }
    }

    /** The ids of the peers this transport talks to. */
    public List<Long> peers() {
        return List.copyOf(peers.keySet());
    }

    /** The channel to a peer (for forwarding client requests to it). */
    public ManagedChannel channel(long peerId) {
        Peer p = peers.get(peerId);
        if (p == null) throw new IllegalArgumentException("unknown peer " + Long.toUnsignedString(peerId, 16));
        return p.channel;
    }

    /** Messages dropped because a peer's queue was full or the peer is unknown. */
    public long droppedMessages() {
        return dropped.get();
    }

    @Override
    public void close() {
        closed = true;
        for (Peer p : peers.values()) {
            p.sender.interrupt();
            p.channel.shutdownNow();
        }
        for (Peer p : peers.values()) {
            try {
                p.sender.join(1000);
                p.channel.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
