package io.synod.server;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * etcd's {@code Lease/LeaseLeases} call, which {@code etcdctl lease list} uses but the published
 * {@code jetcd-grpc} stubs do not include. The method is described here by hand: an empty request,
 * and a response of the standard header (field 1) and repeated {@code LeaseStatus{int64 ID = 1}}
 * (field 2), encoded with protobuf's wire primitives so it is byte-compatible with etcd's.
 */
final class LeaseLeases {
    private LeaseLeases() {}

    static final String FULL_METHOD_NAME = "etcdserverpb.Lease/LeaseLeases";

    /** The response: header and lease IDs. */
    record Response(ResponseHeader header, List<Long> ids) {
        Response {
            ids = List.copyOf(ids);
        }
    }

    static final MethodDescriptor<HandDeclared.Empty, Response> METHOD = HandDeclared.emptyRequestUnary(FULL_METHOD_NAME, LeaseLeases::encode,
            LeaseLeases::decode);

    static byte[] encode(Response r) {
        return HandDeclared.write(out -> {
            out.writeMessage(1, r.header());
            for (long id : r.ids()) {
                out.writeTag(2, com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(CodedOutputStream.computeInt64Size(1, id));
                out.writeInt64(1, id);
            }
        });
    }

    static Response decode(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        ResponseHeader header = ResponseHeader.getDefaultInstance();
        List<Long> ids = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> header = ResponseHeader.parseFrom(in.readBytes());
                case 2 -> {
                    CodedInputStream status = in.readBytes().newCodedInput();
                    long id = 0;
                    for (int t = status.readTag(); t != 0; t = status.readTag()) {
                        if (t >>> 3 == 1) id = status.readInt64();
                        else status.skipField(t);
                    }
                    ids.add(id);
                }
                default -> in.skipField(tag);
            }
        }
        return new Response(header, ids);
    }

    /** {@code lease} (the stub-generated Lease service) with {@code LeaseLeases} served by {@code handler}. */
    static ServerServiceDefinition extend(ServerServiceDefinition lease, Consumer<StreamObserver<Response>> handler) {
        return HandDeclared.extend(lease, METHOD, ServerCalls.asyncUnaryCall((HandDeclared.Empty req, StreamObserver<Response> out) -> handler.accept(out)));
    }
}
