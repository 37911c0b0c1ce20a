package io.synod.server.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.synod.consensus.Message;
import io.synod.raft.RaftMessage;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Peer socket links end to end on loopback: frames arrive whole and in order, one frame-done per
 * frame; a link meant for another member, an oversized length or a frame that does not decode
 * closes the link without delivering anything of it; a frame larger than the socket takes at once
 * stays pending and is finished by a flush; and {@link PeerTransport} uses a link when the peer
 * offers one in its Hello, the gRPC stream when it does not.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketLinkTest {
    static final long SENDER = 1, RECEIVER = 2;
    static final int FRAME_MAX = 32 << 20;
    /** A frame larger than Linux's largest default socket buffers (tcp_wmem and tcp_rmem maxima of 4 and 6 MiB) together. */
    static final int BIG = 30 << 20;

    final LinkedBlockingQueue<Message> delivered = new LinkedBlockingQueue<>();
    final AtomicInteger frames = new AtomicInteger();
    final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) toClose.get(i).close();
    }

    static int freePort() throws Exception {
        for (int port = 20000 + (int) (Math.random() * 9000); ; port++) {
            try (var s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (java.io.IOException taken) {
                // try the next
            }
        }
    }

    RaftSocketListener listener() throws Exception {
        return listener(m -> delivered.add(m));
    }

    RaftSocketListener listener(java.util.function.Predicate<Message> deliver) throws Exception {
        var l = new RaftSocketListener(new InetSocketAddress("127.0.0.1", freePort()), RECEIVER, FRAME_MAX, 2000, deliver,
                frames::incrementAndGet);
        toClose.add(l);
        l.start();
        return l;
    }

    /** A peer's gRPC listener serving {@code service} on a free port; returns the port. */
    int peerListener(io.grpc.ServerServiceDefinition service) throws Exception {
        int port = freePort();
        Server peer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).directExecutor().addService(service).build().start();
        toClose.add(() -> peer.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
        return port;
    }

    /** A started transport of member {@link #SENDER}, socket links on, to {@link #RECEIVER} at {@code grpcPort}. */
    PeerTransport transportTo(int grpcPort, TransportLimits limits, java.util.function.LongConsumer unreachable) {
        var transport = new PeerTransport(Map.of(RECEIVER, new InetSocketAddress("127.0.0.1", grpcPort)), limits, unreachable);
        toClose.add(transport);
        transport.socketLinks(SENDER);
        transport.start();
        return transport;
    }

    static Message heartbeat(long seq) {
        return new RaftMessage.HeartbeatRequest(SENDER, RECEIVER, 3, 7, seq);
    }

    SocketLink link(RaftSocketListener l, long to) throws Exception {
        SocketLink link = SocketLink.connect(new InetSocketAddress("127.0.0.1", l.port()), SENDER, to, 2000);
        toClose.add(link);
        return link;
    }

    static long deadline() {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    }

    @Test
    void framesArriveWholeAndInOrder() throws Exception {
        var l = listener();
        SocketLink link = link(l, RECEIVER);
        for (int f = 0; f < 50; f++) {
            var batch = List.of(heartbeat(2 * f), heartbeat(2 * f + 1), new RaftMessage.HeartbeatRequest(SENDER, 9, 3, 7, -1));
            assertThat(link.write(RaftMessageCodec.encodeBatch(batch), true, deadline())).isTrue();
        }
        for (long seq = 0; seq < 100; seq++) {
            Message m = delivered.poll(10, TimeUnit.SECONDS);
            assertThat(m).as("message %s", seq).isEqualTo(heartbeat(seq));
        }
        // The message for member 9 was not delivered: a member takes only its own.
        assertThat(delivered.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(frames.get()).isEqualTo(50);
    }

    @Test
    void aLinkMeantForAnotherMemberIsClosedUnheard() throws Exception {
        var l = listener();
        SocketLink wrong = link(l, 3);
        // The listener closes it; writes then fail, or vanish unread.
        try {
            for (int i = 0; i < 20; i++) {
                wrong.write(RaftMessageCodec.encodeBatch(List.of(heartbeat(i))), true, deadline());
                Thread.sleep(20);
            }
        } catch (java.io.IOException expected) {
            // the connection was reset
        }
        assertThat(delivered.poll(300, TimeUnit.MILLISECONDS)).isNull();
        // A right one still works.
        assertThat(link(l, RECEIVER).write(RaftMessageCodec.encodeBatch(List.of(heartbeat(5))), true, deadline())).isTrue();
        assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(5));
    }

    /** True if the peer closed {@code s}: end of stream, or a reset (it closed with our bytes unread). */
    static boolean closedByPeer(Socket s) throws java.io.IOException {
        try {
            return s.getInputStream().read() == -1;
        } catch (java.net.SocketException reset) {
            return String.valueOf(reset.getMessage()).contains("reset");
        }
    }

    @Test
    void anOversizedLengthOrABadFrameClosesTheLinkAndDeliversNothingOfIt() throws Exception {
        var l = listener();
        for (byte[] body : List.of(new byte[] {(byte) 0xee, 1, 2, 3, 4, 5, 6, 7}, new byte[0])) {
            try (var s = new Socket("127.0.0.1", l.port())) {
                var bytes = new java.io.ByteArrayOutputStream();
                var out = new DataOutputStream(bytes);
                out.writeInt(SocketLink.MAGIC);
                out.writeByte(SocketLink.VERSION);
                out.writeLong(SENDER);
                out.writeLong(RECEIVER);
                byte[] good = RaftMessageCodec.encodeBatch(List.of(heartbeat(1)));
                out.writeInt(good.length);
                out.write(good);
                if (body.length == 0) {
                    out.writeInt(FRAME_MAX + 1); // beyond the limit
                } else {
                    out.writeInt(body.length);
                    out.write(body);
                }
                // Would be delivered if the link survived.
                out.writeInt(good.length);
                out.write(RaftMessageCodec.encodeBatch(List.of(heartbeat(2))));
                s.getOutputStream().write(bytes.toByteArray()); // one write: the listener may close before a later one
                s.setSoTimeout(10_000);
                assertThat(closedByPeer(s)).as("the listener closes the link").isTrue();
            }
            assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(1));
            assertThat(delivered.poll(300, TimeUnit.MILLISECONDS)).isNull();
        }
        assertThat(frames.get()).isEqualTo(2);
    }

    @Test
    void aFrameTheSocketCannotTakeAtOnceStaysPendingUntilFlushed() throws Exception {
        var gate = new CountDownLatch(1);
        var l = listener(m -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return delivered.add(m);
        });
        SocketLink link = link(l, RECEIVER);
        // The first frame is read and then held in delivery; the next ones fill the socket buffers.
        byte[] small = RaftMessageCodec.encodeBatch(List.of(heartbeat(0)));
        assertThat(link.tryWrite(small, true)).isTrue();
        byte[] big = RaftMessageCodec.encodeBatch(List.of(new RaftMessage.AppendRequest(SENDER, RECEIVER, 3, 1, 1,
                List.of(io.synod.consensus.Entry.normal(3, 2, new byte[BIG])), 1)));
        assertThat(link.tryWrite(big, true)).as("%s bytes do not fit in loopback socket buffers", BIG).isFalse();
        assertThat(link.hasPending()).isTrue();
        assertThat(link.flush(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200))).as("nothing reads while delivery is held").isFalse();
        gate.countDown();
        assertThat(link.flush(deadline())).isTrue();
        assertThat(link.hasPending()).isFalse();
        assertThat(link.write(RaftMessageCodec.encodeBatch(List.of(heartbeat(9))), true, deadline())).isTrue();
        assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(0));
        Message append = delivered.poll(10, TimeUnit.SECONDS);
        assertThat(append).isInstanceOf(RaftMessage.AppendRequest.class);
        assertThat(((RaftMessage.AppendRequest) append).entries().get(0).data()).hasSize(BIG);
        assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(9));
    }

    @Test
    void theTransportTakesTheLinkAPeerOffersAndTheStreamOtherwise() throws Exception {
        for (boolean offered : List.of(true, false)) {
            delivered.clear();
            var l = listener();
            var viaStream = new LinkedBlockingQueue<Message>();
            int grpcPort = peerListener(PeerService.definition(RECEIVER, viaStream::add, () -> {}, offered ? l.port() : 0));
            var transport = transportTo(grpcPort, TransportLimits.DEFAULTS, id -> {});
            for (long seq = 0; seq < 20; seq++) transport.send(List.of(heartbeat(seq)));
            var route = offered ? delivered : viaStream;
            for (long seq = 0; seq < 20; seq++) assertThat(route.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(seq));
            assertThat(offered ? viaStream : delivered).as("nothing on the other route").isEmpty();
            assertThat(transport.route(RECEIVER)).isEqualTo(offered ? PeerTransport.Route.SOCKET : PeerTransport.Route.STREAM);
            assertThat(transport.canSend(RECEIVER)).isTrue();
        }
    }

    @Test
    void aPeerThatDoesNotKnowHelloGetsTheStream() throws Exception {
        var full = PeerService.definition(RECEIVER, delivered::add, () -> {}, 0);
        // A member from before socket links: the stream method only.
        var old = io.grpc.ServerServiceDefinition.builder(PeerProtocol.SERVICE)
                .addMethod(full.getMethod(PeerProtocol.STREAM.getFullMethodName())).build();
        var transport = transportTo(peerListener(old), TransportLimits.DEFAULTS, id -> {});
        for (long seq = 0; seq < 5; seq++) transport.send(List.of(heartbeat(seq)));
        for (long seq = 0; seq < 5; seq++) assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(seq));
        assertThat(transport.route(RECEIVER)).isEqualTo(PeerTransport.Route.STREAM);
    }

    @Test
    void aNewerLinkFromTheSameSenderReplacesTheOlder() throws Exception {
        var l = listener();
        SocketLink older = link(l, RECEIVER);
        assertThat(older.write(RaftMessageCodec.encodeBatch(List.of(heartbeat(1))), true, deadline())).isTrue();
        assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(1));
        SocketLink newer = link(l, RECEIVER);
        assertThat(newer.write(RaftMessageCodec.encodeBatch(List.of(heartbeat(2))), true, deadline())).isTrue();
        assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(2));
        try {
            older.write(RaftMessageCodec.encodeBatch(List.of(heartbeat(3))), true, deadline());
        } catch (java.io.IOException expected) {
            // closed by the listener
        }
        assertThat(delivered.poll(300, TimeUnit.MILLISECONDS)).as("nothing more from the replaced link").isNull();
    }

    @Test
    void aSocketPortOutOfReachFallsBackToTheStream() throws Exception {
        int nobody = freePort(); // named in Hello, but nothing listens there
        var transport = transportTo(peerListener(PeerService.definition(RECEIVER, delivered::add, () -> {}, nobody)),
                new TransportLimits(8192, 512, FRAME_MAX, 2000, 10, 2), id -> {});
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Message got = null;
        for (long seq = 0; got == null && System.nanoTime() < deadline; seq++) {
            transport.send(List.of(heartbeat(seq)));
            got = delivered.poll(50, TimeUnit.MILLISECONDS);
        }
        assertThat(got).as("a heartbeat on the stream after the link failed %s times", PeerTransport.LINK_CONNECT_ATTEMPTS).isNotNull();
        assertThat(transport.route(RECEIVER)).isEqualTo(PeerTransport.Route.STREAM);
    }

    @Test
    void theTransportReconnectsALinkThePeerDropped() throws Exception {
        var l = listener();
        var unreachable = new LinkedBlockingQueue<Long>();
        var transport = transportTo(peerListener(PeerService.definition(RECEIVER, delivered::add, () -> {}, l.port())),
                new TransportLimits(8192, 512, FRAME_MAX, 2000, 10, 2), unreachable::add);
        transport.send(List.of(heartbeat(0)));
        assertThat(delivered.poll(10, TimeUnit.SECONDS)).isEqualTo(heartbeat(0));
        int port = l.port();
        l.close(); // the peer's links go away (as when it restarts)
        var again = new RaftSocketListener(new InetSocketAddress("127.0.0.1", port), RECEIVER, FRAME_MAX, 2000, delivered::add, () -> {});
        toClose.add(again);
        again.start();
        // Raft keeps sending (heartbeats every tick); some frames are lost while the link breaks, then they flow again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Message got = null;
        for (long seq = 1; got == null && System.nanoTime() < deadline; seq++) {
            transport.send(List.of(heartbeat(seq)));
            got = delivered.poll(50, TimeUnit.MILLISECONDS);
        }
        assertThat(got).as("a heartbeat through the new link").isNotNull();
        assertThat(unreachable).as("the broken link was reported").contains(RECEIVER);
        assertThat(transport.route(RECEIVER)).isEqualTo(PeerTransport.Route.SOCKET);
    }
}
