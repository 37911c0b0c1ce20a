package io.synod.bench.load;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How accurately a cluster expires leases that are no longer kept alive. For each abandoned lease
 * the reference is its last keep-alive: the server renewed it somewhere between the request's send
 * ({@code sent}) and its acknowledgement ({@code acked}), so its key may legitimately vanish from
 * {@code sent + ttl} on. Lateness is measured from {@code acked + ttl} (the latest the TTL can
 * have started); a deletion seen before {@code sent + ttl} is certainly early. Leases that were
 * kept alive must not lose their key at all.
 *
 * @param abandoned leases let expire
 * @param expired   of those, how many keys were seen deleted before the deadline
 * @param early     deletions seen before {@code sent + ttl} (must be 0)
 * @param never     abandoned leases whose key was still there at the deadline
 * @param keptLost  kept-alive leases whose key was deleted (must be 0)
 * @param lateP50Ms median lateness of the expired ones past {@code acked + ttl}, in ms (negative: before it)
 * @param lateP99Ms 99th percentile (nearest rank)
 * @param lateMaxMs the latest
 */
public record ExpiryStats(int abandoned, int expired, int early, int never, int keptLost, double lateP50Ms, double lateP99Ms, double lateMaxMs) {

    /**
     * Computes the figures; arrays are indexed by lease, times in nanoseconds, {@code deleted[i] < 0}
     * when lease i's key was not seen deleted, {@code abandoned[i]} whether lease i was let expire.
     */
    public static ExpiryStats of(long ttlNanos, long[] sent, long[] acked, long[] deleted, boolean[] abandoned) {
        int n = sent.length;
        if (acked.length != n || deleted.length != n || abandoned.length != n) throw new IllegalArgumentException("arrays differ in length");
        long[] late = new long[n];
        int count = 0, expired = 0, early = 0, never = 0, keptLost = 0;
        for (int i = 0; i < n; i++) {
            if (!abandoned[i]) {
                if (deleted[i] >= 0) keptLost++;
                continue;
            }
            count++;
            if (deleted[i] < 0) {
                never++;
                continue;
            }
            expired++;
            if (deleted[i] < sent[i] + ttlNanos) early++;
            late[expired - 1] = deleted[i] - (acked[i] + ttlNanos);
        }
        long[] l = Arrays.copyOf(late, expired);
        Arrays.sort(l);
        return new ExpiryStats(count, expired, early, never, keptLost, ms(rank(l, 50)), ms(rank(l, 99)), ms(expired == 0 ? 0 : l[expired - 1]));
    }

    /** Nearest-rank percentile of sorted values (0 when empty). */
    static long rank(long[] sorted, double percentile) {
        if (sorted.length == 0) return 0;
        int r = (int) Math.ceil(percentile / 100 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, r - 1))];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    /** The figures as named extras of a run. */
    public Map<String, Double> asExtras() {
        var m = new LinkedHashMap<String, Double>();
        m.put("expiry_abandoned", (double) abandoned);
        m.put("expiry_expired", (double) expired);
        m.put("expiry_late_p50_ms", lateP50Ms);
        m.put("expiry_late_p99_ms", lateP99Ms);
        m.put("expiry_late_max_ms", lateMaxMs);
        m.put("expiry_early", (double) early);
        m.put("expiry_never", (double) never);
        m.put("expiry_kept_lost", (double) keptLost);
        return m;
    }
}
