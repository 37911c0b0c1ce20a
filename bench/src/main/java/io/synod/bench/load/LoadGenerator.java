package io.synod.bench.load;

import io.etcd.jetcd.api.KVGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The etcd v3 load generator behind {@code synod bench run}: it speaks the etcd API directly
 * (KV, Watch, Lease, v3lock) with asynchronous gRPC stubs, so the very same binary and traffic
 * drive an etcd cluster and a Synod cluster. Closed loop (N clients, one request each in flight)
 * or, for the key-value workloads, open loop (a target rate, with at most {@code clients} requests
 * outstanding); warm-up excluded from the figures; latencies recorded in an HdrHistogram. A
 * workload first prepares a {@link Session} (watchers, leases), which may count something other
 * than completed requests (events delivered) and add figures measured after the timed part.
 */
public final class LoadGenerator {
    private LoadGenerator() {}

    /** Requests in flight while preloading the key space. */
    static final int PRELOAD_CONCURRENCY = 64;
    static final long CHANNEL_SHUTDOWN_SECONDS = 5;

    public static LoadResult run(LoadOptions o, PrintStream log) throws InterruptedException {
        var channels = new ArrayList<ManagedChannel>();
        for (int i = 0; i < o.connections(); i++) {
            // Direct executor: the callbacks only record a latency and issue the next request, so they run on the
            // transport thread. With gRPC's default pool every response cost the load generator a thread hand-off,
            // and on this 2-core machine the generator's own CPU is taken from the servers it measures.
            channels.add(NettyChannelBuilder.forTarget(o.endpoints().get(i % o.endpoints().size())).usePlaintext()
                    .directExecutor().maxInboundMessageSize(16 << 20).build());
        }
        try {
            Values values = Values.random(o.valueBytes());
            if (o.preload() && o.workload().isKv()) {
                preload(channels.stream().map(KVGrpc::newStub).toList(), o, values, log);
            }
            Session session = o.workload().open(List.copyOf(channels), o, values, log);
            try {
                return measure(session, o);
            } finally {
                session.close();
            }
        } finally {
            for (ManagedChannel c : channels) c.shutdownNow();
            for (ManagedChannel c : channels) c.awaitTermination(CHANNEL_SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        }
    }

    private static void preload(List<KVGrpc.KVStub> stubs, LoadOptions o, Values values, PrintStream log) throws InterruptedException {
        long t0 = System.nanoTime();
        var permits = new Semaphore(PRELOAD_CONCURRENCY);
        var failures = new AtomicLong();
        for (int k = 0; k < o.keys(); k++) {
            permits.acquire();
            var req = io.etcd.jetcd.api.PutRequest.newBuilder().setKey(Workload.key(k)).setValue(values.of(k)).build();
            stubs.get(k % stubs.size()).put(req, new io.grpc.stub.StreamObserver<>() {
                @Override public void onNext(io.etcd.jetcd.api.PutResponse r) {}
                @Override public void onError(Throwable t) { failures.incrementAndGet(); permits.release(); }
                @Override public void onCompleted() { permits.release(); }
            });
        }
        permits.acquire(PRELOAD_CONCURRENCY);
        if (failures.get() > 0) throw new IllegalStateException(failures.get() + " preload puts failed");
        log.printf("preloaded %d keys in %.1f s%n", o.keys(), (System.nanoTime() - t0) / 1e9);
    }

    private static LoadResult measure(Session session, LoadOptions o) throws InterruptedException {
        var completions = new Tally();
        Tally counted = session.counted() != null ? session.counted() : completions;
        long start = System.nanoTime();
        long measureFrom = start + (long) (o.warmupSeconds() * 1e9);
        long end = measureFrom + (long) (o.durationSeconds() * 1e9);
        completions.window(measureFrom, end);
        counted.window(measureFrom, end);
        session.window(measureFrom, end);
        long[] cpuBefore = {-1};
        List<Long> self = List.of(ProcessHandle.current().pid());
        long[] clientCpuBefore = {-1};
        Runnable atMeasureStart = () -> {
            cpuBefore[0] = ProcStats.cpuNanos(o.pids());
            clientCpuBefore[0] = ProcStats.cpuNanos(self);
        };
        int clients = session.clients(o);
        var done = new CountDownLatch(clients);
        var outstanding = new Semaphore(clients);

        if (o.ratePerSecond() <= 0) {
            for (int c = 0; c < clients; c++) {
                new ClosedLoopClient(session, c, new SplittableRandom(c + 1L), completions, end, done).next();
            }
            sleepUntil(measureFrom);
            atMeasureStart.run();
            if (!done.await((long) (o.durationSeconds() + o.warmupSeconds() + 60), TimeUnit.SECONDS)) {
                throw new IllegalStateException("clients did not finish within a minute after the run's end");
            }
        } else {
            // Open loop: send at the target rate whatever the latency; a full window counts as an error (overload).
            var rnd = new SplittableRandom(7);
            double intervalNanos = 1e9 / o.ratePerSecond();
            long sent = 0;
            boolean started = false;
            while (true) {
                long now = System.nanoTime();
                if (now >= end) break;
                if (!started && now >= measureFrom) {
                    atMeasureStart.run();
                    started = true;
                }
                long due = start + (long) (sent * intervalNanos);
                if (due > now) {
                    sleepUntil(Math.min(due, end));
                    continue;
                }
                sent++;
                if (!outstanding.tryAcquire()) {
                    completions.refused(due);
                    continue;
                }
                long issuedAt = due; // latency from the intended send time (no coordinated omission)
                session.issue((int) (sent % clients), rnd, success -> {
                    completions.record(issuedAt, System.nanoTime(), success);
                    outstanding.release();
                });
            }
            outstanding.tryAcquire(clients, 60, TimeUnit.SECONDS);
        }
        long cpuAfter = ProcStats.cpuNanos(o.pids());
        long clientCpuAfter = ProcStats.cpuNanos(self);
        long peakRss = o.pids().isEmpty() ? -1 : ProcStats.peakRssBytes(o.pids());
        double secs = o.durationSeconds();
        var extras = new LinkedHashMap<String, Double>(session.extras(secs));
        if (counted != completions) extras.put("requests_failed", (double) completions.errors());
        Histogram h = counted.histogram();
        long ops = counted.ok();
        // The load generator's own CPU per operation: it shares the machine with the servers, so a costly client
        // compresses every ratio between two servers towards 1.
        if (clientCpuBefore[0] >= 0 && clientCpuAfter >= 0 && ops > 0) extras.put("client_cpu_us_per_op", (clientCpuAfter - clientCpuBefore[0]) / 1e3 / ops);
        extras.putAll(session.finish(System.err));
        double cpuPerOp = o.pids().isEmpty() || cpuBefore[0] < 0 || cpuAfter < 0 || ops == 0 ? -1 : (cpuAfter - cpuBefore[0]) / 1e3 / ops;
        return new LoadResult(o.workload(), ops, counted.errors(), secs, ops / secs, ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()), cpuPerOp, peakRss, extras);
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
    }

    /** One closed-loop client: the next request leaves when the previous one completes. */
    private static final class ClosedLoopClient {
        private final Session session;
        private final int id;
        private final SplittableRandom rnd;
        private final Tally tally;
        private final long end;
        private final CountDownLatch done;

        ClosedLoopClient(Session session, int id, SplittableRandom rnd, Tally tally, long end, CountDownLatch done) {
            this.session = session;
            this.id = id;
            this.rnd = rnd;
            this.tally = tally;
            this.end = end;
            this.done = done;
        }

        void next() {
            long t0 = System.nanoTime();
            if (t0 >= end) {
                done.countDown();
                return;
            }
            session.issue(id, rnd, success -> {
                tally.record(t0, System.nanoTime(), success);
                next();
            });
        }
    }
}
