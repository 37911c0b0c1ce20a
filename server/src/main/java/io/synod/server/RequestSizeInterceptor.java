package io.synod.server;

import com.google.protobuf.MessageLite;
import io.grpc.Status;
import java.util.Optional;

/**
 * etcd's request size limit ({@code --max-request-bytes}, 1.5 MiB by default) with etcd's answer:
 * a request whose encoding exceeds it fails with INVALID_ARGUMENT "etcdserver: request is too
 * large" before it reaches a service. gRPC's own inbound limit sits above this one (by
 * {@link #GRPC_OVERHEAD_BYTES}, as in etcd), so only grossly oversized messages get the
 * transport's RESOURCE_EXHAUSTED instead.
 */
final class RequestSizeInterceptor extends MessageGate {
    /** Headroom of the gRPC transport limit over the request limit (etcd adds the same 512 KiB). */
    static final int GRPC_OVERHEAD_BYTES = 512 * 1024;
    static final String TOO_LARGE = "etcdserver: request is too large";

    private final int requestBytesMax;

    RequestSizeInterceptor(int requestBytesMax) {
        this.requestBytesMax = requestBytesMax;
    }

    @Override
    Optional<Status> refuse(Object message) {
        if (message instanceof MessageLite m && m.getSerializedSize() > requestBytesMax) {
            return Optional.of(Status.INVALID_ARGUMENT.withDescription(TOO_LARGE));
        }
        return Optional.empty();
    }
}
