package io.synod.bench.load;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.Event;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.WatchCreateRequest;
import io.etcd.jetcd.api.WatchGrpc;
import io.etcd.jetcd.api.WatchRequest;
import io.etcd.jetcd.api.WatchResponse;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code watch-fanout} workload: {@link ScenarioOptions#watchers()} watchers on one prefix,
 * {@link ScenarioOptions#watchersPerStream()} to a Watch stream, streams spread over the
 * connections; the generator's clients are the writers (one by default) putting under the prefix.
 * Each value starts with the writer's {@code System.nanoTime()} at send, so every delivered event
 * carries its own send time: the run counts events delivered per second and their latency from
 * the write's send to the event's arrival (the writer and the watchers share this process's clock).
 */
final class WatchFanout implements Session {
    /** Keys written under the prefix (one put changes one of them). */
    static final int KEYS = 1_000;
    static final long CREATE_TIMEOUT_SECONDS = 60;

    private final ByteString prefix;
    private final List<KVGrpc.KVStub> kv;
    private final List<StreamObserver<WatchRequest>> streams = new ArrayList<>();
    private final byte[] padding;
    private final Tally events = new Tally();
    private final Tally writes = new Tally();
    private final AtomicLong canceled = new AtomicLong();
    private final AtomicLong streamErrors = new AtomicLong();

    private WatchFanout(ByteString prefix, List<KVGrpc.KVStub> kv, int valueBytes) {
        this.prefix = prefix;
        this.kv = kv;
        this.padding = new byte[Math.max(0, valueBytes - Long.BYTES)];
        new SplittableRandom(3).nextBytes(padding);
    }

    static WatchFanout open(List<Channel> channels, LoadOptions o, PrintStream log) throws InterruptedException {
        // A fresh prefix per run: a later run's watchers see none of an earlier run's events.
        var prefix = ByteString.copyFromUtf8("bench-watch/" + Long.toHexString(System.nanoTime()) + "/");
        var s = new WatchFanout(prefix, channels.stream().map(KVGrpc::newStub).toList(), o.valueBytes());
        ScenarioOptions sc = o.scenario();
        var created = new CountDownLatch(sc.watchers());
        long t0 = System.nanoTime();
        var create = WatchRequest.newBuilder().setCreateRequest(WatchCreateRequest.newBuilder().setKey(prefix)
                .setRangeEnd(Workload.prefixEnd(prefix))).build();
        for (int st = 0, left = sc.watchers(); left > 0; st++, left -= sc.watchersPerStream()) {
            StreamObserver<WatchRequest> requests = WatchGrpc.newStub(channels.get(st % channels.size())).watch(s.receiver(created));
            s.streams.add(requests);
            for (int w = 0; w < Math.min(left, sc.watchersPerStream()); w++) requests.onNext(create);
        }
        if (!created.await(CREATE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            s.close();
            throw new IllegalStateException((sc.watchers() - created.getCount()) + " of " + sc.watchers() + " watchers created within "
                    + CREATE_TIMEOUT_SECONDS + " s");
        }
        log.printf("created %d watchers on %d streams in %.1f s%n", sc.watchers(), s.streams.size(), (System.nanoTime() - t0) / 1e9);
        return s;
    }

    private StreamObserver<WatchResponse> receiver(CountDownLatch created) {
        return new StreamObserver<>() {
            @Override
            public void onNext(WatchResponse r) {
                long now = System.nanoTime();
                if (r.getCreated()) created.countDown();
                if (r.getCanceled()) canceled.incrementAndGet();
                for (Event e : r.getEventsList()) events.record(stamp(e.getKv().getValue()), now, true);
            }

            @Override
            public void onError(Throwable t) {
                streamErrors.incrementAndGet();
            }

            @Override
            public void onCompleted() {
                streamErrors.incrementAndGet();
            }
        };
    }

    /** A value whose first 8 bytes are {@code nanos} (big-endian), followed by {@code padding}. */
    static ByteString stamped(long nanos, byte[] padding) {
        return ByteString.copyFrom(ByteBuffer.allocate(Long.BYTES + padding.length).putLong(nanos).put(padding).flip());
    }

    /** The send time {@link #stamped} put into a value, or Long.MIN_VALUE (never counted) for a foreign value. */
    static long stamp(ByteString value) {
        return value.size() < Long.BYTES ? Long.MIN_VALUE : value.substring(0, Long.BYTES).asReadOnlyByteBuffer().getLong();
    }

    @Override
    public int clients(LoadOptions o) {
        return o.clients();
    }

    @Override
    public void issue(int client, SplittableRandom rnd, Workload.Callback done) {
        long t0 = System.nanoTime();
        var req = PutRequest.newBuilder().setKey(prefix.concat(ByteString.copyFromUtf8(Integer.toString(rnd.nextInt(KEYS)))))
                .setValue(stamped(t0, padding)).build();
        kv.get(client % kv.size()).put(req, Workload.observer(ok -> {
            writes.record(t0, System.nanoTime(), ok);
            done.completed(ok);
        }));
    }

    @Override
    public Tally counted() {
        return events;
    }

    @Override
    public void window(long fromNanos, long endNanos) {
        writes.window(fromNanos, endNanos);
    }

    @Override
    public Map<String, Double> extras(double seconds) {
        var m = new LinkedHashMap<String, Double>();
        m.put("writes_per_second", writes.ok() / seconds);
        m.put("write_errors", (double) writes.errors());
        m.put("events_per_write", writes.ok() == 0 ? 0 : (double) events.ok() / writes.ok());
        m.put("watch_canceled", (double) canceled.get());
        m.put("watch_stream_errors", (double) streamErrors.get());
        return m;
    }

    @Override
    public void close() {
        for (StreamObserver<WatchRequest> s : streams) {
            if (s instanceof ClientCallStreamObserver<WatchRequest> c) c.cancel("benchmark run over", null);
            else s.onCompleted();
        }
    }
}
