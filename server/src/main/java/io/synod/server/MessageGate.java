package io.synod.server;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;

/**
 * An interceptor that looks at each request message before any service does and may refuse it:
 * the call is closed with the returned status and the service never sees the message (nor the
 * half-close that would make a unary handler run). The request size limit and the backend quota
 * are gates of this kind, as etcd's are layers in front of its services.
 */
public abstract class MessageGate implements ServerInterceptor {
    /** The status to refuse {@code message} with, or empty to let it through. */
    abstract Optional<Status> refuse(Object message);

    @Override
    public final <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        return checkEach(call, next.startCall(call, headers), this::refuse);
    }

    /**
     * {@code delegate} behind a check of every request message: the first one {@code refuse} answers
     * for closes the call with that status, and nothing after it (messages, half-close) reaches the
     * service. Shared with {@link io.synod.server.auth.AuthGate}, whose checks need the caller.
     */
    public static <Q, A> ServerCall.Listener<Q> checkEach(ServerCall<Q, A> call, ServerCall.Listener<Q> delegate,
            java.util.function.Function<Object, Optional<Status>> refuse) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            private boolean refused;

            @Override
            public void onMessage(Q message) {
                if (refused) return;
                Optional<Status> no = refuse.apply(message);
                if (no.isPresent()) {
                    refused = true;
                    call.close(no.get(), new Metadata());
                    return;
                }
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                if (!refused) super.onHalfClose();
            }
        };
    }
}
