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
