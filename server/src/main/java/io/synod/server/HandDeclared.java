package io.synod.server;

import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Function;

/**
 * Adds a hand-declared method to a service the published {@code jetcd-grpc} stubs generate, for
 * calls those stubs lack (LeaseLeases, MemberPromote, AuthStatus): gRPC needs one service
 * descriptor naming every method, so the generated definition is rebuilt with the extra one.
 */
final class HandDeclared {
    private HandDeclared() {}

    /** {@code service} with {@code method} served by {@code handler}. */
    static <Q, A> ServerServiceDefinition extend(ServerServiceDefinition service, MethodDescriptor<Q, A> method, ServerCallHandler<Q, A> handler) {
        var descriptor = ServiceDescriptor.newBuilder(service.getServiceDescriptor().getName());
        for (MethodDescriptor<?, ?> m : service.getServiceDescriptor().getMethods()) descriptor.addMethod(m);
        descriptor.addMethod(method);
        var def = ServerServiceDefinition.builder(descriptor.build());
        for (ServerMethodDefinition<?, ?> m : service.getMethods()) def.addMethod(m);
        def.addMethod(method, handler);
        return def.build();
    }

    /** The request of a call that takes none (etcd's empty request messages). */
    record Empty() {}

    static final Empty EMPTY = new Empty();

    /** A unary method with an empty request (unknown request fields skipped, as protobuf would) and a hand-encoded response. */
    static <A> MethodDescriptor<Empty, A> emptyRequestUnary(String fullMethodName, Function<A, byte[]> encode, BytesMarshaller.Decoder<A> decode) {
        return MethodDescriptor.<Empty, A>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullMethodName)
                .setRequestMarshaller(new BytesMarshaller<Empty>(r -> new byte[0], data -> EMPTY))
                .setResponseMarshaller(new BytesMarshaller<A>(encode, decode))
                .build();
    }

    /** Writes a message's fields with protobuf's wire primitives. */
    interface Body {
        void write(CodedOutputStream out) throws IOException;
    }

    /** The bytes {@code body} writes. */
    static byte[] write(Body body) {
        try {
            var bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            body.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
