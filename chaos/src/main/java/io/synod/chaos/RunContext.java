package io.synod.chaos;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.etcd.jetcd.api.RangeRequest;
import io.grpc.ManagedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What every workload of one run shares: the cluster, the run's time origin (histories use
 * {@link System#nanoTime}, reports print milliseconds since the origin), the per-call deadline and
 * the flag that tells client loops to stop. Clients talk to one member each and move to the next
 * member after a failure, as etcd clients do; "next" counts through the current member set, so
 * clients follow membership changes (a removed member's calls fail and the client moves on).
 */
public final class RunContext {
    public final LocalCluster cluster;
    public final long originNanos = System.nanoTime();
    public final long callDeadlineMillis;
    private volatile boolean stopping;

    public RunContext(LocalCluster cluster, long callDeadlineMillis) {
        this.cluster = cluster;
        this.callDeadlineMillis = callDeadlineMillis;
    }

    public boolean stopping() {
        return stopping;
    }

    public void stop() {
        stopping = true;
    }

    /** Milliseconds since the run began, for reports. */
    public long millis(long nanos) {
        return nanos == Long.MAX_VALUE ? -1 : (nanos - originNanos) / 1_000_000;
    }

    /**
     * The channel of the {@code member}-th current member, counted modulo the current member set: a client
     * that moves on with {@code member + 1} after a failure rotates through whoever is a member now.
     */
    public ManagedChannel channel(int member) {
        return cluster.channel(cluster.memberSlot(member));
    }

    public KVGrpc.KVBlockingStub kv(int member) {
        return KVGrpc.newBlockingStub(channel(member)).withDeadlineAfter(callDeadlineMillis, TimeUnit.MILLISECONDS);
    }

    /** KV stub of slot {@code slot} itself (for per-member final reads). */
    public KVGrpc.KVBlockingStub kvAt(int slot) {
        return KVGrpc.newBlockingStub(cluster.channel(slot)).withDeadlineAfter(callDeadlineMillis, TimeUnit.MILLISECONDS);
    }

    public static ByteString bs(String s) {
        return ByteString.copyFromUtf8(s);
    }

    public static String str(ByteString b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    /** The end of a prefix range, as etcd clients compute it (last byte + 1). */
    public static ByteString prefixEnd(String prefix) {
        byte[] b = prefix.getBytes(StandardCharsets.UTF_8);
        b[b.length - 1]++;
        return ByteString.copyFrom(b);
    }

    /** A linearizable range of a prefix on {@code member}. */
    public io.etcd.jetcd.api.RangeResponse rangePrefix(int member, String prefix) {
        return kv(member).range(RangeRequest.newBuilder().setKey(bs(prefix)).setRangeEnd(prefixEnd(prefix)).build());
    }

    /** A serializable (local) range of a prefix on slot {@code slot}'s member: what that member itself holds. */
    public io.etcd.jetcd.api.RangeResponse rangePrefixLocalAt(int slot, String prefix) {
        return kvAt(slot).range(RangeRequest.newBuilder().setKey(bs(prefix)).setRangeEnd(prefixEnd(prefix)).setSerializable(true).build());
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Retries {@code call} on every member in turn until it succeeds or {@code timeoutMillis} pass. */
    public <T> T retry(long timeoutMillis, java.util.function.IntFunction<T> call) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        RuntimeException last = null;
        for (int m = 0; System.nanoTime() < deadline; m++) {
            try {
                return call.apply(m);
            } catch (RuntimeException e) {
                last = e;
                sleep(100);
            }
        }
        throw last != null ? last : new IllegalStateException("no attempt made");
    }
}
