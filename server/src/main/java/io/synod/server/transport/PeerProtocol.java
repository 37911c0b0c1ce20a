package io.synod.server.transport;

import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The gRPC method that carries Raft traffic between members: a client stream of frames of
 * {@link RaftMessageCodec}-encoded messages. Declared by hand with a
 * raw-bytes marshaller, so no protobuf schema is involved; the frame format is ours.
 */
public final class PeerProtocol {
    private PeerProtocol() {}

    public static final String SERVICE = "synod.peer.Raft";

    /** Raw byte arrays on the wire, unchanged. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return WireBytes.stream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return WireBytes.read(stream);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /**
     * One long-lived client stream per sending member and peer: frames arrive in order, and the sender
     * never waits for a round trip between frames (so the leader's in-flight window is used). The peer
     * answers with one empty frame when the sender closes the stream.
     */
    public static final MethodDescriptor<byte[], byte[]> STREAM = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Stream"))
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();

    /**
     * Asks a member who it is and whether it takes socket links ({@link RaftSocketListener}), before
     * a sender opens one. A member without the method (UNIMPLEMENTED) or without a socket port gets
     * its frames on {@link #STREAM}. Request: empty; reply: {@link HelloReply}.
     */
    public static final MethodDescriptor<byte[], byte[]> HELLO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Hello"))
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();

    /**
     * A member's answer to {@link #HELLO}: a version byte (1), its member id, and the port of its
     * socket listener on its peer URL's host (0: none).
     */
    public record HelloReply(long memberId, int socketPort) {
        static final int VERSION = 1;
        static final int BYTES = 1 + 8 + 4;

        public HelloReply {
            if (socketPort < 0 || socketPort > 65535) throw new IllegalArgumentException("socket port out of range: " + socketPort);
        }

        byte[] encode() {
            return java.nio.ByteBuffer.allocate(BYTES).put((byte) VERSION).putLong(memberId).putInt(socketPort).array();
        }

        /** Refuses (IllegalArgumentException) a reply of another size or version, or a port out of range. */
        static HelloReply decode(byte[] b) {
            if (b.length != BYTES || b[0] != VERSION) {
                throw new IllegalArgumentException("hello reply of " + b.length + " bytes, version " + (b.length > 0 ? b[0] : -1)
                        + " (want " + BYTES + " bytes, version " + VERSION + ")");
            }
            var in = java.nio.ByteBuffer.wrap(b, 1, BYTES - 1);
            return new HelloReply(in.getLong(), in.getInt());
        }
    }

    /** The out-of-band snapshot transfer, a service of its own on the peer listener. */
    public static final String SNAPSHOT_SERVICE = "synod.peer.Snapshot";

    /**
     * One client stream per snapshot sent: {@link SnapshotFrames} (a header, then chunks). A separate
     * call, so a large snapshot shares the connection under HTTP/2 flow control per stream and never
     * holds up Raft frames (heartbeats included) to that or any other peer. The receiver answers
     * with one empty frame once the snapshot verified and was handed to its Raft member, or fails
     * the call.
     */
    public static final MethodDescriptor<byte[], byte[]> SNAPSHOT = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SNAPSHOT_SERVICE, "Send"))
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();
}
