package io.synod.bench.load;

import com.google.protobuf.ByteString;
import java.util.SplittableRandom;

/**
 * The values the key-value workloads write: a pool of distinct random values, chosen by key. One
 * value shared by every key would let a store that compresses its blocks (RocksDB, Synod's) write
 * far less than one that does not (bbolt, etcd's), which would favour it in every write figure;
 * random bytes do not compress, and a pool keeps the generator from spending CPU per request.
 */
public final class Values {
    /** Distinct values in the pool: more than the rows a store block holds, so neighbours rarely repeat. */
    static final int POOL = 1024;

    private final ByteString[] pool;

    private Values(ByteString[] pool) {
        this.pool = pool;
    }

    /** {@link #POOL} random values of {@code bytes} bytes each, the same for every run (fixed seed). */
    public static Values random(int bytes) {
        var rnd = new SplittableRandom(1);
        var pool = new ByteString[POOL];
        for (int i = 0; i < POOL; i++) {
            byte[] v = new byte[bytes];
            rnd.split().nextBytes(v); // an independent stream each: nearby seeds of one generator would repeat shifted bytes
            pool[i] = ByteString.copyFrom(v);
        }
        return new Values(pool);
    }

    /** The value written to key {@code k}. */
    public ByteString of(int k) {
        return pool[Math.floorMod(k, pool.length)];
    }
}
