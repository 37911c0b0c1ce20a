package io.synod.bench.load;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.grpc.stub.StreamObserver;
import java.util.SplittableRandom;

/**
 * The workloads of the side-by-side benchmark, each one etcd v3 request shape, so the same
 * generator drives etcd and Synod with byte-identical traffic. The key-value ones use keys
 * {@code key-%08d} over a fixed key space and random values of a fixed size; the coordination ones
 * (watch fan-out, lease keep-alive, lock contention) prepare their own state in a {@link Session}.
 */
public enum Workload {
    /** Put a value on a random key. */
    PUT("put"),
    /** Single-key linearizable Range (ReadIndex on Synod, quorum read on etcd). */
    GET_LINEARIZABLE("get-linearizable"),
    /** Single-key serializable Range, served locally by the member. */
    GET_SERIALIZABLE("get-serializable"),
    /** Read the key's mod_revision, then compare-and-put on it (the optimistic pattern Kubernetes uses). */
    TXN_CAS("txn-cas"),
    /** A prefix Range returning up to 100 keys. */
    RANGE_PREFIX("range-prefix"),
    /** 90% linearizable single-key gets, 10% puts. */
    MIXED("mixed"),
    /** Many watchers on one prefix, writers putting under it; counts events delivered and their latency from the put's send time. */
    WATCH_FANOUT("watch-fanout"),
    /** Keep-alives of many leases over keep-alive streams; then how exactly abandoned short leases expire. */
    LEASE_KEEPALIVE("lease-keepalive"),
    /** Clients taking and releasing one lock through the v3lock service (each with its own lease). */
    LOCK_CONTENTION("lock-contention");

    public final String cliName;

    Workload(String cliName) {
        this.cliName = cliName;
    }

    public static Workload parse(String s) {
        for (Workload w : values()) if (w.cliName.equals(s)) return w;
        throw new IllegalArgumentException("unknown workload '" + s + "'; one of " + names());
    }

    /** Every workload's name, comma-separated. */
    public static String names() {
        return String.join(", ", java.util.Arrays.stream(values()).map(w -> w.cliName).toList());
    }

    /** Whether this is a single-request key-value workload (which the open-loop mode and preloading apply to). */
    public boolean isKv() {
        return switch (this) {
            case WATCH_FANOUT, LEASE_KEEPALIVE, LOCK_CONTENTION -> false;
            default -> true;
        };
    }

    /** Whether the key space must be loaded before measuring. */
    public boolean needsPreload() {
        return isKv() && this != PUT;
    }

    /** The client count issue 6 fixes for this workload (one writer for fan-out, 16 lock contenders), or 0 when it is a free parameter. */
    public int fixedClients() {
        return switch (this) {
            case WATCH_FANOUT -> 1;
            case LOCK_CONTENTION -> 16;
            default -> 0;
        };
    }

    /** Prepares this workload on the given connections (grants leases, opens watchers...). */
    Session open(java.util.List<io.grpc.Channel> channels, LoadOptions o, Values values, java.io.PrintStream log) throws InterruptedException {
        return switch (this) {
            case WATCH_FANOUT -> WatchFanout.open(channels, o, log);
            case LEASE_KEEPALIVE -> LeaseKeepAlive.open(channels, o, log);
            case LOCK_CONTENTION -> LockContention.open(channels, o, log);
            default -> {
                var stubs = channels.stream().map(KVGrpc::newStub).toList();
                yield (client, rnd, done) -> issue(stubs.get(client % stubs.size()), rnd, o, values, done);
            }
        };
    }

    static ByteString key(int i) {
        return ByteString.copyFromUtf8(String.format("key-%08d", i));
    }

    /** Issues one operation; {@code done} is called exactly once with success or failure. */
    void issue(KVGrpc.KVStub kv, SplittableRandom rnd, LoadOptions o, Values values, Callback done) {
        int k = rnd.nextInt(o.keys());
        ByteString value = values.of(k);
        switch (this) {
            case PUT -> kv.put(io.etcd.jetcd.api.PutRequest.newBuilder().setKey(key(k)).setValue(value).build(), observer(done));
            case GET_LINEARIZABLE -> kv.range(io.etcd.jetcd.api.RangeRequest.newBuilder().setKey(key(k)).build(), observer(done));
            case GET_SERIALIZABLE -> kv.range(io.etcd.jetcd.api.RangeRequest.newBuilder().setKey(key(k)).setSerializable(true).build(), observer(done));
            case RANGE_PREFIX -> {
                // Keys share the prefix "key-0000" for blocks of 10,000; ask for 100 of them.
                ByteString prefix = ByteString.copyFromUtf8(String.format("key-%04d", k / 10_000));
                kv.range(io.etcd.jetcd.api.RangeRequest.newBuilder().setKey(prefix).setRangeEnd(prefixEnd(prefix)).setLimit(100).build(), observer(done));
            }
            case TXN_CAS -> kv.range(io.etcd.jetcd.api.RangeRequest.newBuilder().setKey(key(k)).build(), new StreamObserver<>() {
                @Override
                public void onNext(io.etcd.jetcd.api.RangeResponse r) {
                    long mod = r.getKvsCount() == 0 ? 0 : r.getKvs(0).getModRevision();
                    var cmp = io.etcd.jetcd.api.Compare.newBuilder().setKey(key(k)).setTarget(io.etcd.jetcd.api.Compare.CompareTarget.MOD)
                            .setResult(io.etcd.jetcd.api.Compare.CompareResult.EQUAL).setModRevision(mod).build();
                    var put = io.etcd.jetcd.api.RequestOp.newBuilder().setRequestPut(io.etcd.jetcd.api.PutRequest.newBuilder().setKey(key(k)).setValue(value)).build();
                    kv.txn(io.etcd.jetcd.api.TxnRequest.newBuilder().addCompare(cmp).addSuccess(put).build(), observer(done));
                }

                @Override
                public void onError(Throwable t) {
                    done.completed(false);
                }

                @Override
                public void onCompleted() {}
            });
            case MIXED -> {
                if (rnd.nextInt(10) == 0) PUT.issue(kv, rnd, o, values, done);
                else GET_LINEARIZABLE.issue(kv, rnd, o, values, done);
            }
            case WATCH_FANOUT, LEASE_KEEPALIVE, LOCK_CONTENTION -> throw new IllegalStateException(cliName + " runs through its Session");
        }
    }

    static ByteString prefixEnd(ByteString prefix) {
        byte[] b = prefix.toByteArray();
        for (int i = b.length - 1; i >= 0; i--) {
            if (b[i] != (byte) 0xff) {
                b[i]++;
                return ByteString.copyFrom(b, 0, i + 1);
            }
        }
        return ByteString.copyFrom(new byte[] {0});
    }

    /** Completion of one operation. */
    @FunctionalInterface
    interface Callback {
        void completed(boolean ok);
    }

    static <T> StreamObserver<T> observer(Callback done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {}

            @Override
            public void onError(Throwable t) {
                done.completed(false);
            }

            @Override
            public void onCompleted() {
                done.completed(true);
            }
        };
    }
}
