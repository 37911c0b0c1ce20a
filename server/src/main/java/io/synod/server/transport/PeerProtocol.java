package io.synod.server.transport;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The gRPC method that carries Raft traffic between members: one unary call per frame of
 * {@link RaftMessageCodec}-encoded messages, answered with an empty frame. Declared by hand with a
 * raw-bytes marshaller, so no protobuf schema is involved; the frame format is ours.
 */
public final class PeerProtocol {
    private PeerProtocol() {}

    public static final String SERVICE = "synod.peer.Raft";

    /** Raw byte arrays on the wire, unchanged. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    public static final MethodDescriptor<byte[], byte[]> SEND = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Send"))
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();
}
