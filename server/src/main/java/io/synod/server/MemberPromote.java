package io.synod.server;

import com.google.protobuf.CodedInputStream;
import io.etcd.jetcd.api.Member;
import io.etcd.jetcd.api.MemberUpdateResponse;
import io.etcd.jetcd.api.ResponseHeader;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * etcd's {@code Cluster/MemberPromote} call, which {@code etcdctl member promote} uses but the
 * published {@code jetcd-grpc} stubs (etcd 3.3's API) do not include; described by hand like
 * {@link LeaseLeases}: request {@code {uint64 ID = 1}}, response {@code {ResponseHeader header = 1;
 * repeated Member members = 2}}, encoded with protobuf's wire primitives so it is byte-compatible
 * with etcd's. Also Synod's own {@code synod.peer.Members/Publish}: a member that starts sends its
 * name and client URLs (etcd's "publish") to the leader, which records them through Raft.
 */
final class MemberPromote {
    private MemberPromote() {}

    static final String FULL_METHOD_NAME = "etcdserverpb.Cluster/MemberPromote";

    /** The request: the learner's id. */
    record Request(long id) {}

    /** The response: header and the members after the promotion. */
    record Response(ResponseHeader header, List<Member> members) {
        Response {
            members = List.copyOf(members);
        }
    }

    static final MethodDescriptor<Request, Response> METHOD = MethodDescriptor.<Request, Response>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(FULL_METHOD_NAME)
            .setRequestMarshaller(new BytesMarshaller<Request>(MemberPromote::encode, MemberPromote::decodeRequest))
            .setResponseMarshaller(new BytesMarshaller<Response>(MemberPromote::encode, MemberPromote::decodeResponse))
            .build();

    /** Synod's publish call: a member's own entry (id, name, client URLs) in etcd's Member message. */
    static final MethodDescriptor<Member, MemberUpdateResponse> PUBLISH = MethodDescriptor.<Member, MemberUpdateResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("synod.peer.Members/Publish")
            .setRequestMarshaller(ProtoUtils.marshaller(Member.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(MemberUpdateResponse.getDefaultInstance()))
            .build();

    static byte[] encode(Request r) {
        return HandDeclared.write(out -> out.writeUInt64(1, r.id()));
    }

    static byte[] encode(Response r) {
        return HandDeclared.write(out -> {
            out.writeMessage(1, r.header());
            for (Member m : r.members()) out.writeMessage(2, m);
        });
    }

    static Request decodeRequest(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        long id = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (tag >>> 3 == 1) id = in.readUInt64();
            else in.skipField(tag);
        }
        return new Request(id);
    }

    static Response decodeResponse(byte[] data) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(data);
        ResponseHeader header = ResponseHeader.getDefaultInstance();
        List<Member> members = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (tag >>> 3) {
                case 1 -> header = ResponseHeader.parseFrom(in.readBytes());
                case 2 -> members.add(Member.parseFrom(in.readBytes()));
                default -> in.skipField(tag);
            }
        }
        return new Response(header, members);
    }

    /** {@code cluster} (the stub-generated Cluster service) with {@code MemberPromote} served by {@code handler}. */
    static ServerServiceDefinition extend(ServerServiceDefinition cluster, BiConsumer<Request, StreamObserver<Response>> handler) {
        return HandDeclared.extend(cluster, METHOD, ServerCalls.asyncUnaryCall(handler::accept));
    }

    /** The publish service, served by {@code handler}. */
    static ServerServiceDefinition publishService(BiConsumer<Member, StreamObserver<MemberUpdateResponse>> handler) {
        return ServerServiceDefinition.builder(ServiceDescriptor.newBuilder("synod.peer.Members").addMethod(PUBLISH).build())
                .addMethod(PUBLISH, ServerCalls.asyncUnaryCall(handler::accept)).build();
    }
}
