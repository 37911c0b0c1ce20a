package io.synod.server;

import io.grpc.MethodDescriptor;
import io.synod.server.transport.WireBytes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Function;

/**
 * A gRPC marshaller from an encoder and a decoder over whole byte arrays, for the calls whose
 * messages are described by hand because the published stubs lack them ({@link LeaseLeases},
 * {@link MemberPromote}).
 */
final class BytesMarshaller<T> implements MethodDescriptor.Marshaller<T> {
    /** Decodes one message; a malformed one throws {@link IOException}. */
    @FunctionalInterface
    interface Decoder<T> {
        T decode(byte[] data) throws IOException;
    }

    private final Function<T, byte[]> encoder;
    private final Decoder<T> decoder;

    BytesMarshaller(Function<T, byte[]> encoder, Decoder<T> decoder) {
        this.encoder = encoder;
        this.decoder = decoder;
    }

    @Override
    public InputStream stream(T value) {
        return WireBytes.stream(encoder.apply(value));
    }

    @Override
    public T parse(InputStream stream) {
        try {
            return decoder.decode(WireBytes.read(stream));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
