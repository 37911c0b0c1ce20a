package io.synod.check.kv;

import io.synod.check.Operation;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates histories that are linearizable by construction: operations are executed one at a
 * time against a real register at strictly increasing "linearization points", then each is given
 * a random real-time interval containing its point, so intervals overlap like concurrent clients'.
 * Used by the property tests and by {@code CheckerSpeed}.
 */
public final class RandomRegisterHistories {
    /** Gap between consecutive linearization points on one key. */
    private static final long GAP = 100;

    /** Values written are below this, so anything at or above it was never written. */
    public static final long NEVER_WRITTEN_FLOOR = 1_000_000_000L;

    private RandomRegisterHistories() {}

    /**
     * @param keys number of independent keys
     * @param opsPerKey operations per key
     * @param concurrency roughly how many operations on a key are outstanding at any instant
     * @param unknownFraction fraction of operations recorded as UNKNOWN; half of the unknown
     *     writes really took effect, half never did
     */
    public static List<Operation<KvInput, KvOutput>> generate(
            long seed, int keys, int opsPerKey, int concurrency, double unknownFraction) {
        return generate(seed, keys, opsPerKey, concurrency, unknownFraction, true);
    }

    /** As above; {@code withCas = false} gives a put/get-only workload (half puts, half gets). */
    public static List<Operation<KvInput, KvOutput>> generate(
            long seed, int keys, int opsPerKey, int concurrency, double unknownFraction, boolean withCas) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Operation<KvInput, KvOutput>> all = new ArrayList<>(keys * opsPerKey);
        long nextValue = 1;
        long halfWidth = concurrency * GAP; // mean interval length ≈ concurrency * GAP
        for (int k = 0; k < keys; k++) {
            String key = "k" + k;
            long value = KvModel.ABSENT;
            List<Long> written = new ArrayList<>();
            long point = rnd.nextLong(GAP);
            for (int i = 0; i < opsPerKey; i++) {
                point += 1 + rnd.nextLong(2 * GAP);
                long invoke = point - rnd.nextLong(halfWidth + 1);
                long ret = point + rnd.nextLong(halfWidth + 1);
                int client = rnd.nextInt(concurrency);
                boolean unknown = rnd.nextDouble() < unknownFraction;
                boolean tookEffect = !unknown || rnd.nextBoolean();
                int kind = withCas ? rnd.nextInt(10) : rnd.nextInt(10) % 2 * 4;
                if (kind < 4) { // put
                    long v = nextValue++;
                    KvInput in = new KvInput.Put(key, v);
                    if (tookEffect) {
                        value = v;
                        written.add(v);
                    }
                    all.add(unknown ? Operation.unknown(client, in, invoke)
                            : Operation.ok(client, in, new KvOutput.PutOk(), invoke, ret));
                } else if (kind < 8) { // get
                    KvInput in = new KvInput.Get(key);
                    all.add(unknown ? Operation.unknown(client, in, invoke)
                            : Operation.ok(client, in, new KvOutput.GetResult(value), invoke, ret));
                } else { // cas: usually against the current value so some succeed
                    long expected = rnd.nextInt(3) > 0 || written.isEmpty()
                            ? value : written.get(rnd.nextInt(written.size()));
                    long v = nextValue++;
                    KvInput in = new KvInput.Cas(key, expected, v);
                    boolean swapped = value == expected;
                    if (tookEffect && swapped) {
                        value = v;
                        written.add(v);
                    }
                    all.add(unknown ? Operation.unknown(client, in, invoke)
                            : Operation.ok(client, in, new KvOutput.CasResult(swapped), invoke, ret));
                }
            }
        }
        // Interleave keys by invocation time, as a real recorder would produce them.
        all.sort(Comparator.comparingLong(Operation::invokeNanos));
        return all;
    }
}
