package io.synod.bench.load;

import com.google.protobuf.ByteString;
import io.etcd.jetcd.api.KVGrpc;
import io.grpc.stub.StreamObserver;
import java.util.SplittableRandom;

/**
 * The workloads of the side-by-side benchmark, each one etcd v3 KV request shape, so the same
 * generator drives etcd and Synod with byte-identical traffic. Keys are {@code key-%08d} over a
 * fixed key space; values are random bytes of a fixed size.
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
    MIXED("mixed");

    public final String cliName;

    Workload(String cliName) {
        this.cliName = cliName;
    }

    public static Workload parse(String s) {
        for (Workload w : values()) if (w.cliName.equals(s)) return w;
        throw new IllegalArgumentException("unknown workload '" + s + "'; one of put, get-linearizable, get-serializable, txn-cas, range-prefix, mixed");
    }

    /** Whether the key space must be loaded before measuring. */
    public boolean needsPreload() {
        return this != PUT;
    }

    static ByteString key(int i) {
        return ByteString.copyFromUtf8(String.format("key-%08d", i));
    }

    /** Issues one operation; {@code done} is called exactly once with success or failure. */
    void issue(KVGrpc.KVStub kv, SplittableRandom rnd, LoadOptions o, ByteString value, Callback done) {
        int k = rnd.nextInt(o.keys());
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
                if (rnd.nextInt(10) == 0) PUT.issue(kv, rnd, o, value, done);
                else GET_LINEARIZABLE.issue(kv, rnd, o, value, done);
            }
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
    interface Callback {
        void completed(boolean ok);
    }

    private static <T> StreamObserver<T> observer(Callback done) {
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
