package io.synod.server;

import com.google.protobuf.CodedInputStream;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * etcd's {@code Auth/AuthStatus} (etcd 3.5; {@code etcdctl auth status}): whether auth is enabled
 * and the auth store's revision. The published {@code jetcd-grpc} stubs predate it, so it is
 * described here by hand: an empty request, and a response of the standard header (field 1),
 * {@code bool enabled = 2} and {@code uint64 authRevision = 3}, byte-compatible with etcd's. As in
 * etcd, any caller may ask, with or without a token.
 */
final class AuthStatus {
    private AuthStatus() {}

    static final String FULL_METHOD_NAME = "etcdserverpb.Auth/AuthStatus";

    record Response(ResponseHeader header, boolean enabled, long authRevision) {}

    static final MethodDescriptor<HandDeclared.Empty, Response> METHOD = HandDeclared.emptyRequestUnary(FULL_METHOD_NAME, AuthStatus::encode,
            AuthStatus::decode);

    static byte[] encode(Response r) {
        return HandDeclared.write(out -> {
            out.writeMessage(1, r.header());
            if (r.enabled()) out.writeBool(2, true);
            if (r.authRevision() != 0) out.writeUInt64(3, r.authRevision());
        });
    }

    static Response decode(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        ResponseHeader header = ResponseHeader.getDefaultInstance();
        boolean enabled = false;
        long revision = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> header = ResponseHeader.parseFrom(in.readBytes());
                case 2 -> enabled = in.readBool();
                case 3 -> revision = in.readUInt64();
                default -> in.skipField(tag);
            }
        }
        return new Response(header, enabled, revision);
    }

    /** {@code auth} (the Auth service) with {@code AuthStatus} answered from this member's applied auth state. */
    static ServerServiceDefinition extend(ServerServiceDefinition auth, Supplier<Response> status) {
        return HandDeclared.extend(auth, METHOD, ServerCalls.asyncUnaryCall((HandDeclared.Empty req, StreamObserver<Response> out) -> {
            out.onNext(status.get());
            out.onCompleted();
        }));
    }
}
