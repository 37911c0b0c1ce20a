package io.synod.server.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * The sending end of one peer socket link (see {@link RaftSocketListener}): a TCP connection to
 * another member on which this member writes length-prefixed Raft frames. The channel is
 * non-blocking, so that the Raft loop can write a frame itself ({@link #tryWrite}) and never wait
 * for a slow or partitioned peer: what the socket does not take stays pending, and the peer's
 * sender thread finishes it ({@link #flush}), waiting on a selector up to a deadline, before any
 * other frame goes out. Not thread-safe: the owner ({@code PeerTransport}'s peer) serialises use
 * under its lock.
 */
final class SocketLink implements AutoCloseable {
    /** "SYNR": the first bytes of a link, so a stray connection is told apart. */
    static final int MAGIC = 0x53594e52;
    static final int VERSION = 1;
    static final int HANDSHAKE_BYTES = 4 + 1 + 8 + 8;

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer header = ByteBuffer.allocate(4);
    private final ByteBuffer probe = ByteBuffer.allocate(1);
    /** The unwritten rest of the last frame, or null. */
    private ByteBuffer[] pending;

    private SocketLink(SocketChannel channel, Selector selector) {
        this.channel = channel;
        this.selector = selector;
    }

    /** Connects (waiting up to {@code timeoutMillis}) and sends the handshake. */
    static SocketLink connect(InetSocketAddress address, long from, long to, long timeoutMillis) throws IOException {
        SocketChannel ch = SocketChannel.open();
        Selector sel = null;
        try {
            ch.socket().setTcpNoDelay(true);
            ch.socket().connect(address, (int) Math.min(Integer.MAX_VALUE, timeoutMillis));
            ch.configureBlocking(false);
            sel = Selector.open();
            ch.register(sel, 0);
            var link = new SocketLink(ch, sel);
            ByteBuffer hello = ByteBuffer.allocate(HANDSHAKE_BYTES).putInt(MAGIC).put((byte) VERSION).putLong(from).putLong(to).flip();
            link.pending = new ByteBuffer[] {hello};
            if (!link.flush(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis))) {
                throw new IOException("handshake to " + address + " not sent within " + timeoutMillis + " ms");
            }
            return link;
        } catch (IOException | RuntimeException e) {
            if (sel != null) sel.close();
            ch.close();
            throw e;
        }
    }

    /** Whether part of a frame still waits to be written. */
    boolean hasPending() {
        return pending != null;
    }

    /**
     * Writes {@code frame} as far as the socket takes it without waiting; whatever is left becomes
     * pending. Must not be called while a frame is pending.
     *
     * @param checkPeer first make sure the peer has not closed the link ({@link #peerClosed}), for a frame that
     *                  must not vanish unheard
     * @return true if the whole frame was written
     */
    boolean tryWrite(byte[] frame, boolean checkPeer) throws IOException {
        io.synod.common.Assert.that(pending == null, "a frame of %s bytes was written while another was pending", frame.length);
        if (checkPeer && peerClosed()) throw new IOException("the peer closed the link");
        header.clear();
        header.putInt(frame.length).flip();
        ByteBuffer[] bufs = {header, ByteBuffer.wrap(frame)};
        long left = 4L + frame.length;
        while (left > 0) {
            long n = channel.write(bufs);
            if (n == 0) break;
            left -= n;
        }
        if (left == 0) return true;
        // Copy the header: the next frame reuses it.
        ByteBuffer rest = ByteBuffer.allocate(header.remaining()).put(header).flip();
        pending = new ByteBuffer[] {rest, bufs[1]};
        return false;
    }

    /**
     * Writes the pending rest, waiting for the socket up to {@code deadlineNanos}.
     *
     * @return true if nothing is pending any more, false if the deadline passed first
     */
    boolean flush(long deadlineNanos) throws IOException {
        if (pending == null) return true;
        SelectionKey key = channel.keyFor(selector);
        try {
            while (true) {
                if (Thread.currentThread().isInterrupted()) throw new java.io.InterruptedIOException("interrupted while writing to a peer");
                channel.write(pending);
                if (!pending[pending.length - 1].hasRemaining()) {
                    pending = null;
                    return true;
                }
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) return false;
                key.interestOps(SelectionKey.OP_WRITE);
                selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                selector.selectedKeys().clear();
            }
        } finally {
            if (key.isValid()) key.interestOps(0);
        }
    }

    /**
     * Whether the peer closed its end (or reset it): it never writes, so a read that does not come back
     * empty means the link is over. A write to a closed link still succeeds once (into the socket
     * buffer) and its frame is lost without a word; the next write fails. Raft resends its own
     * messages, but a forwarded write lost that way would wait out its deadline instead of being
     * retried, so frames that carry one are checked first (one non-blocking {@code read}); the Raft
     * loop's appends and acknowledgements are not, and an idle link is checked by its sender thread.
     */
    boolean peerClosed() {
        try {
            probe.clear();
            return channel.read(probe) != 0;
        } catch (IOException e) {
            return true;
        }
    }

    /** Writes {@code frame} in full, waiting up to {@code deadlineNanos}; false if the deadline passed first. */
    boolean write(byte[] frame, boolean checkPeer, long deadlineNanos) throws IOException {
        if (!flush(deadlineNanos)) return false;
        return tryWrite(frame, checkPeer) || flush(deadlineNanos);
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
