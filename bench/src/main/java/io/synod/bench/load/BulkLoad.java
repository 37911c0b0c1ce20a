package io.synod.bench.load;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.PutRequest;
import io.etcd.jetcd.api.RequestOp;
import io.etcd.jetcd.api.TxnRequest;
import io.etcd.jetcd.api.TxnResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes a large key space quickly, for the footprint comparison ({@code bench compare --workloads
 * footprint}): keys {@code key-%08d} (the same names the key-value workloads use) in transactions of
 * many puts each, a bounded number of transactions in flight, spread over the given endpoints. Each
 * key gets its own pseudo-random value (seeded by the key's number), because identical values would
 * let a compressing store (RocksDB) look smaller than it is on real data. etcd refuses transactions
 * of more than {@code --max-txn-ops} operations (128 by default in 3.4), hence {@link #OPS_PER_TXN_MAX}.
 */
public final class BulkLoad {
    private BulkLoad() {}

    /** etcd 3.4's default {@code --max-txn-ops}: a larger transaction is refused. */
    public static final int OPS_PER_TXN_MAX = 128;
    /** Upper bound of transactions in flight (each holds up to 128 puts of up to 1 MiB). */
    public static final int CONCURRENCY_MAX = 64;
    /** Upper bound of the keys one load writes (10 million 256-byte values is ~2.6 GB before overheads). */
    public static final int KEYS_MAX = 10_000_000;
    /** gRPC channels opened, spread over the endpoints. */
    static final int CONNECTIONS = 4;

    /**
     * What a load did.
     *
     * @param revision the store revision after the last transaction (the highest header revision seen)
     */
    public record Result(int keys, int txns, double seconds, long revision) {
        public double keysPerSecond() {
            return seconds > 0 ? keys / seconds : 0;
        }
    }

    /** Transactions needed for {@code keys} keys at {@code opsPerTxn} puts each (the last one may be smaller). */
    public static int txnCount(int keys, int opsPerTxn) {
        return (int) ((keys + (long) opsPerTxn - 1) / opsPerTxn);
    }

    /**
     * The value key {@code k} gets: {@code bytes} pseudo-random bytes determined by {@code k}, so a reader can check what it reads.
     * {@code split()} gives each key its own stream: {@code new SplittableRandom(seed)} streams of nearby seeds are the same
     * sequence shifted by a word or more, which a block compressor (RocksDB's Snappy) squeezed fivefold in a first measurement.
     */
    public static ByteString value(int k, int bytes) {
        byte[] v = new byte[bytes];
        new SplittableRandom(k).split().nextBytes(v);
        return ByteString.copyFrom(v);
    }

    /** The name of key {@code k} ({@code key-%08d}). */
    public static ByteString key(int k) {
        return Workload.key(k);
    }

    /**
     * Puts keys 0..keys-1, {@code opsPerTxn} per transaction with up to {@code concurrency} in flight;
     * fails on the first refused transaction or after {@code timeoutSeconds}.
     */
    public static Result load(List<String> endpoints, int keys, int valueBytes, int opsPerTxn, int concurrency, long timeoutSeconds,
            PrintStream log) throws InterruptedException {
        if (endpoints.isEmpty()) throw new IllegalArgumentException("at least one endpoint is required");
        if (keys < 1 || keys > KEYS_MAX) throw new IllegalArgumentException("keys must be 1.." + KEYS_MAX + ", got " + keys);
        if (opsPerTxn < 1 || opsPerTxn > OPS_PER_TXN_MAX) throw new IllegalArgumentException("ops per txn must be 1.." + OPS_PER_TXN_MAX);
        if (concurrency < 1 || concurrency > CONCURRENCY_MAX) throw new IllegalArgumentException("concurrency must be 1.." + CONCURRENCY_MAX);
        if (valueBytes < 0 || valueBytes > 1 << 20) throw new IllegalArgumentException("valueBytes must be 0..1MiB, got " + valueBytes);
        if (timeoutSeconds < 1) throw new IllegalArgumentException("timeout must be >= 1 s");
        var channels = new ArrayList<ManagedChannel>();
        for (int i = 0; i < CONNECTIONS; i++) {
            channels.add(NettyChannelBuilder.forTarget(endpoints.get(i % endpoints.size())).usePlaintext().maxInboundMessageSize(16 << 20).build());
        }
        try {
            var stubs = channels.stream().map(KVGrpc::newStub).toList();
            int txns = txnCount(keys, opsPerTxn);
            var permits = new Semaphore(concurrency);
            var failure = new AtomicReference<Throwable>();
            var revision = new AtomicLong();
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            long nextReport = t0 + TimeUnit.SECONDS.toNanos(10);
            for (int t = 0; t < txns && failure.get() == null; t++) {
                if (!permits.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException("bulk load did not finish within " + timeoutSeconds + " s (" + t + " of " + txns + " txns sent)");
                }
                var txn = TxnRequest.newBuilder();
                for (int k = t * opsPerTxn; k < Math.min(keys, (t + 1) * opsPerTxn); k++) {
                    txn.addSuccess(RequestOp.newBuilder().setRequestPut(PutRequest.newBuilder().setKey(key(k)).setValue(value(k, valueBytes))));
                }
                stubs.get(t % stubs.size()).txn(txn.build(), new StreamObserver<TxnResponse>() {
                    @Override
                    public void onNext(TxnResponse r) {
                        revision.accumulateAndGet(r.getHeader().getRevision(), Math::max);
                    }

                    @Override
                    public void onError(Throwable e) {
                        failure.compareAndSet(null, e);
                        permits.release();
                    }

                    @Override
                    public void onCompleted() {
                        permits.release();
                    }
                });
                if (System.nanoTime() > nextReport) {
                    log.printf("  bulk load: %d of %d keys sent%n", Math.min(keys, (t + 1) * opsPerTxn), keys);
                    nextReport += TimeUnit.SECONDS.toNanos(10);
                }
            }
            if (!permits.tryAcquire(concurrency, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("bulk load did not finish within " + timeoutSeconds + " s");
            }
            if (failure.get() != null) throw new IllegalStateException("bulk load transaction failed: " + failure.get(), failure.get());
            return new Result(keys, txns, (System.nanoTime() - t0) / 1e9, revision.get());
        } finally {
            for (ManagedChannel c : channels) c.shutdownNow();
            for (ManagedChannel c : channels) c.awaitTermination(LoadGenerator.CHANNEL_SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        }
    }
}
