package io.synod.server.transport;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.synod.consensus.Message;
import io.synod.raft.RaftMessage;
import io.synod.replica.ReplicaTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
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
 * round trip between them, so a leader's pipelined appends really are in flight together. When
 * nothing is queued for a peer and its stream is ready, the Raft loop writes the frame itself
 * (a try-lock, never a wait), which saves a thread wake-up per hop on a lightly loaded link. A stream
 * that breaks, or that flow control keeps closed past the send timeout, drops the frame, reports the
 * peer unreachable
 * (so the leader falls back from pipelining to probing) and backs off; Raft's own retransmission
 * recovers the loss. Forwarded client writes ({@link ForwardMessage}) ride the same streams; the
 * channels also carry the other calls a follower forwards to the leader.
 * Snapshot requests do not travel on the message stream: they go to the snapshot sink (normally
 * {@link SnapshotSender#send}), which streams the state out of band.
 *
 * <p>When socket links are on ({@link #socketLinks}) and a peer offers one (its {@code Hello} names a
 * {@link RaftSocketListener} port), frames to it go on a {@link SocketLink} instead of the stream:
 * the Raft loop's direct write then reaches the socket without waking a channel thread (one
 * wake-up less per hop, the larger part of a write's latency at one client). Queueing, the sender
 * thread, the send timeout and the unreachable reports work the same on either route.
 *
 * <p>Peers change at run time: {@link #updatePeers} (called as membership changes are applied)
 * opens a channel to a new member, replaces the channel of a member whose peer URL changed, and
 * closes the channel of a removed one; messages to a peer that is not (or no longer) known are
 * dropped and counted, like any other loss.
 *
 * <p>The channels to peers run on event-loop threads of their own ({@link TransportLimits#ioThreads}),
 * not on gRPC's shared ones that also serve this member's listeners. A Raft pass may run on a
 * listener's thread (see {@code ReplicaDriver.Handoff}), and gRPC flushes a write by queueing a task
 * on the channel's event loop: a channel served by that same thread would send the pass's appends
 * only once the pass, fsync included, had ended. With a client at a follower (its write forwarded)
 * this measured better than shared event loops; with the client at the leader, no worse.
 */
public final class PeerTransport implements ReplicaTransport, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);
    /** How often an idle sender thread checks whether the transport was closed. */
    static final long IDLE_POLL_MILLIS = 100;
    /** Failed connects in a row to a peer's socket port before its frames go on the stream instead. */
    static final int LINK_CONNECT_ATTEMPTS = 3;

    private final class Peer {
        final long id;
        final InetSocketAddress address;
        final ManagedChannel channel;
        final ArrayBlockingQueue<Message> queue = new ArrayBlockingQueue<>(limits.sendQueueDepthMax());
        final Thread sender;
        volatile boolean reachable = true;
        /** Set when the peer left the membership (or moved): its sender ends and its channel closes. */
        volatile boolean retired;
        /**
         * The socket link to this peer when it offers one and this member uses them ({@link #socketLinks}),
         * else null and frames go on the gRPC stream. Changed under the lock only.
         */
        private volatile SocketLink link;
        private volatile boolean linkBroken;
        /**
         * True once the peer said it offers no socket link (or does not know how to say), or its link
         * could not be reached {@link #LINK_CONNECT_ATTEMPTS} times running: use the stream. Reset when
         * the stream fails, so the peer is asked again.
         */
        private boolean streamOnly;
        /** Failed connects in a row to a socket port the peer named. */
        private int linkConnectFailures;
        /** The messages of a frame the Raft loop's direct write left unfinished, or null. */
        private List<Message> pendingBatch;

        Peer(long id, InetSocketAddress address) {
            this.id = id;
            this.address = address;
            var builder = NettyChannelBuilder.forAddress(address).maxInboundMessageSize(limits.frameBytesMax());
            if (ioGroup != null) builder.eventLoopGroup(ioGroup).channelType(ioChannelType);
            // With peer TLS every channel (Raft frames, forwarded client requests, snapshots) is encrypted and
            // verifies the other member's certificate and host name against the peer CA.
            if (tls.isPresent()) builder.sslContext(tls.get());
            else builder.usePlaintext();
            this.channel = builder.build();
            this.sender = new Thread(this::sendLoop, "synod-peer-send-" + Long.toUnsignedString(id, 16));
            this.sender.setDaemon(true);
        }

        /**
         * Guards the stream and the order of frames. The sender thread holds it while it drains the
         * queue and writes (which may wait for flow control); the Raft loop only ever try-locks it,
         * to write directly when nothing is queued (see {@link PeerTransport#send}), so it never
         * waits for a slow peer and frames still leave in the order the loop produced them.
         */
        final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
        /** Released when messages were queued for the sender thread. */
        final Semaphore queued = new Semaphore(0);

        void sendLoop() {
            var batch = new ArrayList<Message>(limits.batchMessagesMax());
            try {
                while (!closed && !retired) sendOnce(batch);
            } catch (InterruptedException e) {
                // closing, or this peer was retired
            } finally {
                lock.lock();
                try {
                    closeLink();
                } finally {
                    lock.unlock();
                }
            }
        }

        private void sendOnce(ArrayList<Message> batch) throws InterruptedException {
            SocketLink l = link;
            boolean linkWork = l != null && (linkBroken || l.hasPending());
            if (queue.isEmpty() && !linkWork) {
                if (!queued.tryAcquire(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS) && l != null) checkIdleLink();
                return;
            }
            lock.lockInterruptibly();
            try {
                if (link != null && linkBroken) {
                    failLink("link failed or closed by the peer"); // what was in flight is lost; Raft retransmits
                    return;
                }
                if (link != null && link.hasPending() && !finishPending()) return;
                Message first = queue.poll();
                if (first == null) return;
                batch.add(first);
                long bytes = first.sizeBytes();
                // Fill the frame up to half its limit by the messages' own estimates, leaving room for encoding
                // overhead; a single message may exceed that (RaftConfig bounds it below frameBytesMax).
                while (batch.size() < limits.batchMessagesMax()) {
                    Message next = queue.peek();
                    if (next == null || bytes + next.sizeBytes() > limits.frameBytesMax() / 2) break;
                    batch.add(queue.poll());
                    bytes += next.sizeBytes();
                }
                deliver(batch);
            } finally {
                lock.unlock();
                batch.clear();
            }
        }

        /**
         * Notices, while nothing is sent, that the peer closed an idle link, so that {@link #canSend}
         * stops saying yes and forwarded writes go elsewhere. Only tried: the Raft loop may be writing.
         */
        private void checkIdleLink() {
            if (!lock.tryLock()) return;
            try {
                if (link != null && !linkBroken && !link.hasPending() && link.peerClosed()) {
                    linkBroken = true;
                    queued.release();
                }
            } finally {
                lock.unlock();
            }
        }

        /** Writes the rest of a frame the Raft loop began; false (the link failed) if the peer does not take it in time. */
        private boolean finishPending() throws InterruptedException {
            List<Message> unfinished = pendingBatch;
            pendingBatch = null;
            try {
                if (link.flush(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limits.sendTimeoutMillis()))) return true;
                failLink("no frame accepted within " + limits.sendTimeoutMillis() + " ms");
            } catch (IOException e) {
                failLink(e.getMessage());
            }
            // The peer never decodes a frame cut short by a closed link: what was in it certainly did not arrive.
            if (unfinished != null) {
                dropped.addAndGet(unfinished.size());
                unsent(unfinished);
            }
            return false;
        }

        /**
         * The Raft loop's fast path: writes {@code batch} at once if nothing is queued ahead of it,
         * the stream is open and flow control takes it; returns false (the caller queues the batch)
         * otherwise. Never blocks: the lock is only tried.
         */
        boolean tryDirect(List<Message> batch) {
            if (!queue.isEmpty() || !lock.tryLock()) return false;
            try {
                if (!queue.isEmpty()) return false;
                SocketLink l = link;
                if (l == null && (stream == null || streamBroken || !stream.isReady())) return false;
                if (l != null && (linkBroken || l.hasPending())) return false;
                long bytes = 0;
                for (Message m : batch) bytes += m.sizeBytes();
                if (batch.size() > limits.batchMessagesMax() || bytes > limits.frameBytesMax() / 2) return false;
                // On failure, recovery (close or cancel, report, back off, reopen) is left to the sender thread; Raft retransmits.
                if (l != null) {
                    try {
                        // What the socket does not take now, the sender thread writes before anything else.
                        if (!l.tryWrite(RaftMessageCodec.encodeBatch(batch), carriesRequests(batch))) {
                            pendingBatch = List.copyOf(batch);
                            queued.release();
                        }
                    } catch (IOException e) {
                        linkBroken = true;
                        lostInDirectWrite(batch);
                    }
                    return true;
                }
                try {
                    stream.onNext(RaftMessageCodec.encodeBatch(batch));
                } catch (RuntimeException e) {
                    streamBroken = true;
                    lostInDirectWrite(batch);
                }
                return true;
            } finally {
                lock.unlock();
            }
        }

        private void lostInDirectWrite(List<Message> batch) {
            dropped.addAndGet(batch.size());
            unsent(batch);
            queued.release();
        }

        // The stream to this peer, used under the lock only (volatile for canSend's glance); the callbacks flag it broken.
        private volatile ClientCallStreamObserver<byte[]> stream;
        private volatile boolean streamBroken;
        private final Semaphore readySignal = new Semaphore(0);

        private void deliver(List<Message> batch) throws InterruptedException {
            if (stream != null && streamBroken) {
                stream = null;
                streamOnly = false; // ask again: the peer may have restarted with a socket link
                Thread.sleep(limits.retryBackoffMillis()); // do not spin reconnecting to a dead peer
            }
            if (link == null && stream == null && localId != 0 && !streamOnly && !openLink()) {
                unsent(batch);
                return;
            }
            if (link != null) {
                try {
                    if (!link.write(RaftMessageCodec.encodeBatch(batch), carriesRequests(batch), System.nanoTime()
                            + TimeUnit.MILLISECONDS.toNanos(limits.sendTimeoutMillis()))) {
                        // An unfinished frame is never delivered: the peer drops it when the link closes.
                        unsent(batch);
                        failLink("no frame accepted within " + limits.sendTimeoutMillis() + " ms");
                        return;
                    }
                } catch (IOException e) {
                    unsent(batch);
                    failLink(e.getMessage());
                    return;
                }
                if (!reachable) log.info("peer {} reachable again", Long.toUnsignedString(id, 16));
                reachable = true;
                return;
            }
            if (stream == null) openStream();
            if (!awaitReady()) {
                unsent(batch);
                fail("no frame accepted within " + limits.sendTimeoutMillis() + " ms");
                return;
            }
            try {
                stream.onNext(RaftMessageCodec.encodeBatch(batch));
            } catch (RuntimeException e) {
                unsent(batch);
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
                    if (closed || retired) return;
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

        /**
         * Asks the peer (a {@code Hello} on the gRPC channel) whether it takes socket links and on
         * which port, and connects if so. Returns true when there is a link, or when the peer takes
         * none and frames go on the stream; false (the peer reported unreachable, after a pause) when
         * it could not be asked or reached.
         */
        private boolean openLink() throws InterruptedException {
            PeerProtocol.HelloReply hello;
            try {
                hello = PeerProtocol.HelloReply.decode(ClientCalls.blockingUnaryCall(channel, PeerProtocol.HELLO,
                        CallOptions.DEFAULT.withDeadlineAfter(limits.sendTimeoutMillis(), TimeUnit.MILLISECONDS), new byte[0]));
            } catch (io.grpc.StatusRuntimeException e) {
                if (e.getStatus().getCode() == io.grpc.Status.Code.UNIMPLEMENTED) {
                    streamOnly = true; // a member from before socket links
                    return true;
                }
                fail("hello failed: " + e.getStatus());
                return false;
            } catch (IllegalArgumentException e) {
                fail("bad hello: " + e.getMessage());
                return false;
            }
            if (hello.memberId() != id) {
                fail("the member at " + address + " is " + Long.toUnsignedString(hello.memberId(), 16));
                return false;
            }
            if (hello.socketPort() == 0) {
                streamOnly = true;
                return true;
            }
            var target = new InetSocketAddress(address.getHostString(), hello.socketPort());
            try {
                link = SocketLink.connect(target, localId, id, limits.sendTimeoutMillis());
                linkBroken = false;
                linkConnectFailures = 0;
                log.debug("peer {}: socket link to {}", Long.toUnsignedString(id, 16), target);
                return true;
            } catch (IOException e) {
                if (++linkConnectFailures >= LINK_CONNECT_ATTEMPTS) {
                    // The peer answers on its peer URL but its socket port is out of reach (a firewall, a port mapping):
                    // the stream still works, so use it rather than cut the peer off.
                    log.warn("peer {}: socket link to {} failed {} times ({}); sending on the gRPC stream", Long.toUnsignedString(id, 16),
                            target, linkConnectFailures, e.getMessage());
                    linkConnectFailures = 0;
                    streamOnly = true;
                    return true;
                }
                fail("socket link to " + target + ": " + e.getMessage());
                return false;
            }
        }

        /** Drops the link (the next frame asks and connects again), reports the peer unreachable and pauses. */
        private void failLink(String reason) throws InterruptedException {
            closeLink();
            fail(reason);
        }

        private void closeLink() {
            SocketLink l = link;
            link = null;
            linkBroken = false;
            if (l != null) l.close();
            if (pendingBatch != null) { // cut short with the link: never decoded
                unsent(pendingBatch);
                pendingBatch = null;
            }
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
            if (stream != null) {
                stream.cancel("peer send failed: " + reason, null);
                streamOnly = false; // ask again: the peer may have restarted with a socket link
            }
            stream = null;
            if (closed || retired) return;
            if (reachable) log.warn("peer {} unreachable: {}", Long.toUnsignedString(id, 16), reason);
            reachable = false;
            unreachable.accept(id);
            Thread.sleep(limits.retryBackoffMillis());
        }
    }

    private final TransportLimits limits;
    private final LongConsumer unreachable;
    /** Told of forwarded writes that certainly never left this member, so they may be retried elsewhere. */
    private volatile Consumer<ForwardMessage.Request> unsentRequests = p -> {};
    private final Consumer<RaftMessage.SnapshotRequest> snapshots;
    private final Optional<SslContext> tls;
    /** Peers by member id; replaced entries are retired. Read by any thread, changed under {@code this}. */
    private final Map<Long, Peer> peers = new ConcurrentSkipListMap<>();
    /** The peer channels' own event loops, or null when they share gRPC's ({@link TransportLimits#ioThreads} 0). */
    private final EventLoopGroup ioGroup;
    private final Class<? extends Channel> ioChannelType;
    private boolean started;
    /** This member's id once {@link #socketLinks} turned links on; 0: frames go on gRPC streams only. */
    private volatile long localId;
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
        var ioThreadFactory = Thread.ofPlatform().name("synod-peer-io-", 1).daemon().factory();
        if (limits.ioThreads() == 0) {
            this.ioGroup = null;
            this.ioChannelType = null;
        } else if (Epoll.isAvailable()) {
            this.ioGroup = new EpollEventLoopGroup(limits.ioThreads(), ioThreadFactory);
            this.ioChannelType = EpollSocketChannel.class;
        } else {
            this.ioGroup = new NioEventLoopGroup(limits.ioThreads(), ioThreadFactory);
            this.ioChannelType = NioSocketChannel.class;
        }
        this.unreachable = unreachable;
        this.snapshots = snapshots;
        peerAddresses.forEach((id, addr) -> peers.put(id, new Peer(id, addr)));
    }

    /**
     * Sends frames over socket links ({@link SocketLink}) to every peer that offers one, as member
     * {@code localId}; peers that offer none, or do not know how to say so, keep the gRPC stream.
     * Call before {@link #start}. Not for peer TLS: a link is plaintext.
     */
    public void socketLinks(long localId) {
        io.synod.common.Assert.that(localId != 0, "member id 0 is reserved");
        this.localId = localId;
    }

    public synchronized void start() {
        started = true;
        for (Peer p : peers.values()) p.sender.start();
    }

    /**
     * Makes the known peers exactly {@code peerAddresses} (by member id): new ones get a channel and
     * a sender, ones whose address changed get new ones, missing ones are retired (their sender ends,
     * their channel closes). Never blocks on the network; safe from the Raft loop's thread.
     */
    public synchronized void updatePeers(Map<Long, InetSocketAddress> peerAddresses) {
        if (closed) return;
        for (var it = peers.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            InetSocketAddress want = peerAddresses.get(e.getKey());
            if (want != null && want.equals(e.getValue().address)) continue;
            retire(e.getValue(), want == null ? "left the membership" : "moved to " + want);
            it.remove();
        }
        peerAddresses.forEach((id, addr) -> {
            if (peers.containsKey(id)) return;
            Peer p = new Peer(id, addr);
            peers.put(id, p);
            if (started) p.sender.start();
            log.info("peer {} at {}", Long.toUnsignedString(id, 16), addr);
        });
    }

    private void retire(Peer p, String why) {
        log.info("peer {} at {} {}: closing its channel", Long.toUnsignedString(p.id, 16), p.address, why);
        p.retired = true;
        p.sender.interrupt();
        p.channel.shutdown(); // lets calls already forwarded on it finish
    }

    /** The peer ids this transport currently knows, for tests and operators. */
    public java.util.Set<Long> peerIds() {
        return java.util.Set.copyOf(peers.keySet());
    }

    /**
     * Called by the Raft loop (and, for {@link ForwardMessage.Request}s, by request threads: any
     * number of threads may send; each thread's messages to a peer keep their order). A peer's messages are written by the loop itself when nothing is
     * queued for that peer and its stream can take them (one thread hand-off less per message on a
     * lightly loaded link); otherwise they join the peer's queue for its sender thread.
     */
    @Override
    public void send(List<Message> messages) {
        Map<Long, List<Message>> byPeer = null;
        for (Message m : messages) {
            if (m instanceof RaftMessage.SnapshotRequest s) {
                snapshots.accept(s);
                continue;
            }
            if (byPeer == null) byPeer = new TreeMap<>();
            byPeer.computeIfAbsent(m.to(), k -> new ArrayList<>()).add(m);
        }
        if (byPeer == null) return;
        for (var e : byPeer.entrySet()) {
            Peer p = peers.get(e.getKey());
            if (p == null) {
                dropped.addAndGet(e.getValue().size());
                unsent(e.getValue());
                continue;
            }
            if (p.tryDirect(e.getValue())) continue;
            for (Message m : e.getValue()) {
                if (!p.queue.offer(m)) {
                    dropped.incrementAndGet();
                    unsent(List.of(m));
                }
            }
            p.queued.release();
        }
    }

    /**
     * Where to report {@link ForwardMessage.Request}s that certainly never reached the wire (the
     * peer is unknown, its queue was full, or its stream was down when their frame was due): their
     * write or renewal cannot have happened, so it may be retried with another leader.
     */
    public void onUnsentRequests(Consumer<ForwardMessage.Request> sink) {
        this.unsentRequests = sink;
    }

    /**
     * Whether {@code batch} holds a forwarded client request: Raft resends its own messages, but a request lost
     * without a word would make its client wait out the deadline, so a link is checked for a closed peer first.
     */
    private static boolean carriesRequests(List<Message> batch) {
        for (Message m : batch) {
            if (m instanceof ForwardMessage.Request) return true;
        }
        return false;
    }

    private void unsent(List<? extends Message> messages) {
        for (Message m : messages) {
            if (m instanceof ForwardMessage.Request r) unsentRequests.accept(r);
        }
    }

    /**
     * Whether frames to {@code peerId} are flowing right now: known, reachable, a stream open and
     * not broken. A glance, not a promise: a forwarded write is only started on a link that looks
     * healthy, so that a write for a leader that just died is retried instead of waiting out its
     * deadline in a queue.
     */
    public boolean canSend(long peerId) {
        Peer p = peers.get(peerId);
        return p != null && !p.retired && p.reachable && route(peerId) != Route.NONE;
    }

    /** How frames travel to a peer right now. */
    public enum Route {
        /** No connection open yet (or it just failed). */
        NONE,
        /** A socket link ({@link SocketLink}). */
        SOCKET,
        /** The gRPC stream on the peer URL. */
        STREAM
    }

    /** How frames to {@code peerId} travel right now, for tests and operators. */
    public Route route(long peerId) {
        Peer p = peers.get(peerId);
        if (p == null) return Route.NONE;
        if (p.link != null && !p.linkBroken) return Route.SOCKET;
        if (p.stream != null && !p.streamBroken) return Route.STREAM;
        return Route.NONE;
    }

    /** How many peers' frames travel by {@code route} right now (for the metrics). */
    public int routeCount(Route route) {
        int n = 0;
        for (long id : peers.keySet()) if (route(id) == route) n++;
        return n;
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
        synchronized (this) {
            closed = true;
        }
        for (Peer p : peers.values()) {
            p.sender.interrupt();
            p.channel.shutdownNow();
        }
        try {
            for (Peer p : peers.values()) {
                p.sender.join(1000);
                p.channel.awaitTermination(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (ioGroup != null) ioGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
