package io.synod.chaos;

import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchProgressRequest;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.synod.chaos.checkers.WatchEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Raw etcd Watch streams for the harness: a {@link Stream} is one Watch RPC with one watch on a key
 * range, feeding a callback; {@link #history} reads the complete event history of a range from a
 * revision, ending at a progress notification at or above a target revision (which the server sends
 * only after every earlier event, so nothing is cut off).
 */
public final class Watches {
    private Watches() {}

    /** Callback of a {@link Stream}. */
    public interface Listener {
        void events(List<Event> events, WatchResponse response);

        default void progress(long revision) {}

        void ended(Throwable error);
    }

    /** One Watch RPC carrying one watch. */
    public static final class Stream {
        private volatile ClientCallStreamObserver<WatchRequest> requests;
        private final CountDownLatch ended = new CountDownLatch(1);

        Stream(RunContext ctx, int member, String key, String rangeEnd, long startRevision, Listener listener) {
            var observer = new ClientResponseObserver<WatchRequest, WatchResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<WatchRequest> r) {
                    requests = r;
                }

                @Override
                public void onNext(WatchResponse r) {
                    if (r.getCanceled()) {
                        listener.ended(new IllegalStateException("watch canceled: " + r.getCancelReason() + " compact_revision="
                                + r.getCompactRevision()));
                        cancel();
                        return;
                    }
                    if (r.getEventsCount() > 0) listener.events(r.getEventsList(), r);
                    else if (!r.getCreated()) listener.progress(r.getHeader().getRevision());
                }

                @Override
                public void onError(Throwable t) {
                    listener.ended(t);
                    ended.countDown();
                }

                @Override
                public void onCompleted() {
                    listener.ended(null);
                    ended.countDown();
                }
            };
            var out = WatchGrpc.newStub(ctx.channel(member)).watch(observer);
            var create = WatchCreateRequest.newBuilder().setKey(RunContext.bs(key)).setStartRevision(startRevision);
            if (rangeEnd != null) create.setRangeEnd(RunContext.bs(rangeEnd));
            synchronized (this) {
                out.onNext(WatchRequest.newBuilder().setCreateRequest(create).build());
            }
        }

        public synchronized void requestProgress() {
            try {
                requests.onNext(WatchRequest.newBuilder().setProgressRequest(WatchProgressRequest.getDefaultInstance()).build());
            } catch (RuntimeException ignored) {
                // stream already gone; the listener hears of it
            }
        }

        public void cancel() {
            try {
                requests.cancel("harness restarts or stops the watch", null);
            } catch (RuntimeException ignored) {
                // already gone
            }
        }

        public boolean awaitEnd(long millis) throws InterruptedException {
            return ended.await(millis, TimeUnit.MILLISECONDS);
        }
    }

    public static Stream open(RunContext ctx, int member, String key, String rangeEnd, long startRevision, Listener listener) {
        return new Stream(ctx, member, key, rangeEnd, startRevision, listener);
    }

    public static WatchEvent event(Event e) {
        return new WatchEvent(e.getKv().getModRevision(), RunContext.str(e.getKv().getKey()), e.getType().name(),
                RunContext.str(e.getKv().getValue()));
    }

    /** An event with the key's create revision, for lock-key lifetimes. */
    public record Raw(long revision, long createRevision, String key, String type, String value) {}

    /**
     * Every event of {@code [key, rangeEnd)} from {@code fromRevision} up to a progress notification at or
     * above {@code untilRevision}, read from {@code member}; throws if that takes longer than {@code timeoutMillis}.
     */
    public static List<Raw> history(RunContext ctx, int member, String key, String rangeEnd, long fromRevision, long untilRevision,
            long timeoutMillis) throws InterruptedException {
        var out = new ArrayList<Raw>();
        var done = new CountDownLatch(1);
        Throwable[] failure = {null};
        boolean[] reached = {false};
        var stream = open(ctx, member, key, rangeEnd, fromRevision, new Listener() {
            @Override
            public void events(List<Event> events, WatchResponse response) {
                synchronized (out) {
                    for (Event e : events) {
                        out.add(new Raw(e.getKv().getModRevision(), e.getKv().getCreateRevision(), RunContext.str(e.getKv().getKey()),
                                e.getType().name(), RunContext.str(e.getKv().getValue())));
                    }
                }
            }

            @Override
            public void progress(long revision) {
                if (revision >= untilRevision) {
                    synchronized (failure) {
                        if (failure[0] == null) reached[0] = true;
                    }
                    done.countDown();
                }
            }

            @Override
            public void ended(Throwable error) {
                synchronized (failure) {
                    if (!reached[0]) failure[0] = error != null ? error : new IllegalStateException("watch ended");
                }
                done.countDown();
            }
        });
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        try {
            while (!done.await(300, TimeUnit.MILLISECONDS)) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("history read of " + key + " timed out");
                stream.requestProgress();
            }
        } finally {
            stream.cancel();
        }
        synchronized (failure) {
            if (!reached[0]) throw new IllegalStateException("history read of " + key + " failed: " + failure[0], failure[0]);
        }
        synchronized (out) {
            return List.copyOf(out);
        }
    }
}
