package io.synod.server;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.concurrent.ThreadFactory;
import java.util.function.LongSupplier;
import org.slf4j.MDC;

/**
 * Puts the member's name (MDC key {@value #MEMBER}) and, where a thread works for the Raft loop
 * or a request, the Raft term (MDC key {@value #TERM}) into every log line, so the interleaved
 * logs of several members (in one process in tests, or collected from many) can be told apart
 * and ordered by term. SLF4J's MDC is per thread, so it is set where a member's threads start
 * ({@link #wrap}, {@link #threadFactory}) and around each gRPC callback, because gRPC runs calls
 * on a shared executor whose threads serve any member of the process.
 */
public final class MemberMdc {
    public static final String MEMBER = "member";
    public static final String TERM = "term";

    private MemberMdc() {}

    /** Runs {@code task} with the member's name in the MDC of whatever thread runs it. */
    public static Runnable wrap(String member, Runnable task) {
        return () -> {
            MDC.put(MEMBER, member);
            try {
                task.run();
            } finally {
                MDC.remove(MEMBER);
                MDC.remove(TERM);
            }
        };
    }

    /**
     * Runs {@code task} now with the member's name in this thread's MDC, then puts back what the
     * MDC held (the thread may be in the middle of another member's, or the same member's, call).
     */
    public static void runAs(String member, Runnable task) {
        String member0 = MDC.get(MEMBER);
        String term0 = MDC.get(TERM);
        MDC.put(MEMBER, member);
        try {
            task.run();
        } finally {
            restore(MEMBER, member0);
            restore(TERM, term0);
        }
    }

    /** Daemon threads named {@code prefix-N} that carry the member's name in their MDC. */
    public static ThreadFactory threadFactory(String member, String prefix) {
        var seq = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            var t = new Thread(wrap(member, r), prefix + "-" + seq.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Records the current term on this thread (the Raft loop calls it when the leader changes). */
    static void term(long term) {
        MDC.put(TERM, Long.toString(term));
    }

    /** Sets member and term around every callback of a call, restoring the thread's MDC after. */
    public static ServerInterceptor interceptor(String member, LongSupplier term) {
        return new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                ServerCall.Listener<Q> delegate = inMdc(member, term, () -> next.startCall(call, headers));
                return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
                    @Override
                    public void onMessage(Q message) {
                        inMdc(member, term, () -> {
                            super.onMessage(message);
                            return null;
                        });
                    }

                    @Override
                    public void onHalfClose() {
                        inMdc(member, term, () -> {
                            super.onHalfClose();
                            return null;
                        });
                    }

                    @Override
                    public void onCancel() {
                        inMdc(member, term, () -> {
                            super.onCancel();
                            return null;
                        });
                    }

                    @Override
                    public void onComplete() {
                        inMdc(member, term, () -> {
                            super.onComplete();
                            return null;
                        });
                    }

                    @Override
                    public void onReady() {
                        inMdc(member, term, () -> {
                            super.onReady();
                            return null;
                        });
                    }
                };
            }
        };
    }

    private static <T> T inMdc(String member, LongSupplier term, java.util.function.Supplier<T> body) {
        String oldMember = MDC.get(MEMBER);
        String oldTerm = MDC.get(TERM);
        MDC.put(MEMBER, member);
        MDC.put(TERM, Long.toString(term.getAsLong()));
        try {
            return body.get();
        } finally {
            restore(MEMBER, oldMember);
            restore(TERM, oldTerm);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) MDC.remove(key);
        else MDC.put(key, value);
    }
}
