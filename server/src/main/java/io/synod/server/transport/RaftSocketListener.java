package io.synod.server.transport;

import io.synod.consensus.Message;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of the peer socket links ({@link SocketLink}): a plain TCP listener on which
 * other members' Raft frames arrive without HTTP/2 or gRPC in between. It exists for one reason:
 * the latency of a write at one client. Over gRPC an append crosses two event-loop wake-ups (the
 * sender's channel thread, then the receiver's listener thread) before the follower's Raft loop
 * has it; here the leader's Raft pass writes the frame to the socket itself and one thread per
 * inbound link, blocked in {@code read}, wakes up, decodes the frame and runs the member's pass on
 * it, log write included, as the gRPC listener's thread did.
 *
 * <p>Each connection starts with a handshake ({@link SocketLink#MAGIC}, a version byte, the
 * sender's id and the id it means to reach); one whose target is not this member, or that does not
 * complete its handshake within the timeout, is closed. Then come frames: a 4-byte length and
 * {@link RaftMessageCodec} bytes, at most {@code frameBytesMax}. A frame that does not decode, or
 * a length out of bounds, closes the connection: nothing of that frame is delivered, and the
 * sender reconnects (Raft retransmits what was lost). A newer connection from the same sender
 * replaces an older one. Nothing is ever written back: acknowledgements travel on the link in
 * the other direction, as on the gRPC streams. Peers are trusted as on a plaintext peer URL; with
 * peer TLS this listener is not started (the configuration refuses it).
 */
public final class RaftSocketListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RaftSocketListener.class);
    /** Bytes buffered per inbound link, so that a small frame costs one {@code read}. */
    static final int READ_BUFFER_BYTES = 64 << 10;

    private final long localId;
    private final int frameBytesMax;
    private final long handshakeTimeoutMillis;
    private final Predicate<Message> deliver;
    private final Runnable frameDone;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    /** The live link from each sender; a newer one closes the older. */
    private final Map<Long, Socket> inbound = new ConcurrentHashMap<>();
    /** Every connection's thread, so {@link #close} can wait until no pass runs on one. */
    private final java.util.Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * Binds {@code address} at once (so a taken port fails the member's start) and accepts once
     * {@link #start} is called.
     *
     * @param deliver   takes each message of a frame addressed to this member, in order, on the link's thread
     * @param frameDone runs after each frame's messages were delivered, on the same thread (one pass, one fsync)
     */
    public RaftSocketListener(InetSocketAddress address, long localId, int frameBytesMax, long handshakeTimeoutMillis,
            Predicate<Message> deliver, Runnable frameDone) throws IOException {
        this.localId = localId;
        this.frameBytesMax = frameBytesMax;
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        this.deliver = deliver;
        this.frameDone = frameDone;
        this.server = ServerSocketChannel.open();
        try {
            server.bind(address);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen for peer socket links on " + address + ": " + e.getMessage(), e);
        }
        this.acceptor = new Thread(this::acceptLoop, "synod-peer-accept");
        this.acceptor.setDaemon(true);
    }

    public void start() {
        acceptor.start();
    }

    /** The port links arrive on (what {@code Hello} tells other members). */
    public int port() {
        try {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new IllegalStateException("listener closed", e);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                if (closed) return;
                // Out of file descriptors, say: keep listening. Giving up would leave the port open with nobody reading,
                // and senders that trust the port (it is what Hello names) would stall instead of falling back.
                log.warn("peer socket listener could not accept a link: {}", e.getMessage());
                pause();
                continue;
            }
            Thread t = new Thread(() -> {
                try {
                    serve(ch.socket());
                } finally {
                    threads.remove(Thread.currentThread());
                }
            }, "synod-peer-in");
            t.setDaemon(true);
            threads.add(t);
            if (closed) {
                threads.remove(t);
                closeQuietly(ch.socket());
                return;
            }
            try {
                t.start();
            } catch (Throwable e) { // OutOfMemoryError: unable to create a native thread
                threads.remove(t);
                closeQuietly(ch.socket());
                log.warn("peer socket listener could not start a link's thread: {}", e.toString());
                pause();
            }
        }
    }

    /** A pause after a failure to accept, so that a lasting one does not spin. */
    private static void pause() {
        try {
            Thread.sleep(ACCEPT_RETRY_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static final long ACCEPT_RETRY_MILLIS = 100;
    /** Idle seconds before TCP probes an inbound link, so that the thread of a sender that vanished ends. */
    static final int KEEPALIVE_IDLE_SECONDS = 10;

    private void serve(Socket s) {
        long from = 0;
        try (s) {
            s.setTcpNoDelay(true);
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, handshakeTimeoutMillis));
            var in = new DataInputStream(new BufferedInputStream(s.getInputStream(), READ_BUFFER_BYTES));
            int magic = in.readInt();
            int version = in.readUnsignedByte();
            from = in.readLong();
            long to = in.readLong();
            if (magic != SocketLink.MAGIC || version != SocketLink.VERSION) {
                log.warn("peer socket link from {} refused: magic {} version {} (want {} version {})", s.getRemoteSocketAddress(),
                        Integer.toHexString(magic), version, Integer.toHexString(SocketLink.MAGIC), SocketLink.VERSION);
                return;
            }
            if (to != localId) {
                log.warn("peer socket link from member {} refused: it is meant for member {}, this is {}", Long.toUnsignedString(from, 16),
                        Long.toUnsignedString(to, 16), Long.toUnsignedString(localId, 16));
                return;
            }
            s.setSoTimeout(0);
            keepAlive(s);
            Socket older = inbound.put(from, s);
            if (older != null) older.close();
            Thread.currentThread().setName("synod-peer-in-" + Long.toUnsignedString(from, 16));
            if (closed) return;
            // A replaced link stops at once: frames still buffered on it are older than the new link's.
            while (!closed && inbound.get(from) == s) {
                int length = in.readInt();
                if (length < 1 || length > frameBytesMax) {
                    log.warn("peer socket link from member {} closed: frame of {} bytes (limit {})", Long.toUnsignedString(from, 16), length,
                            frameBytesMax);
                    return;
                }
                byte[] frame = new byte[length];
                in.readFully(frame);
                if (inbound.get(from) != s) return; // replaced while this thread waited for the frame
                try {
                    PeerService.deliverFrame(frame, localId, deliver, frameDone);
                } catch (IllegalArgumentException e) {
                    log.warn("peer socket link from member {} closed: bad peer frame: {}", Long.toUnsignedString(from, 16), e.getMessage());
                    return;
                }
            }
        } catch (SocketTimeoutException e) {
            log.warn("peer socket link from {} closed: no handshake within {} ms", s.getRemoteSocketAddress(), handshakeTimeoutMillis);
        } catch (EOFException e) {
            // The sender closed the link (it reconnects when it has something to send).
        } catch (IOException e) {
            if (!closed && !s.isClosed()) log.debug("peer socket link from member {} ended: {}", Long.toUnsignedString(from, 16), e.getMessage());
        } finally {
            if (from != 0) inbound.remove(from, s);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            log.debug("closing peer socket listener: {}", e.getMessage());
        }
        for (Socket s : inbound.values()) closeQuietly(s);
        // A link's thread may be in a Raft pass (a log write): the member closes its stores only after this returns.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        try {
            acceptor.join(CLOSE_WAIT_MILLIS);
            for (Thread t : threads) {
                long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left > 0) t.join(left);
                if (t.isAlive()) log.warn("peer socket link thread {} still running after {} ms", t.getName(), CLOSE_WAIT_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long {@link #close} waits for the links' threads to end. */
    static final long CLOSE_WAIT_MILLIS = 3000;

    private static void keepAlive(Socket s) {
        try {
            s.setKeepAlive(true);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, 2);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, 3);
        } catch (IOException | UnsupportedOperationException e) {
            log.debug("peer socket link keepalive: {}", e.toString());
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            log.debug("closing peer socket link: {}", e.getMessage());
        }
    }
}
