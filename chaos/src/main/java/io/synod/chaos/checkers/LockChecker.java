package io.synod.chaos.checkers;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lock safety from the store's own history. Holders take the etcd v3 lock (a key under the lock's
 * prefix, tied to their lease), then write a protected key through a txn guarded by
 * {@code create_revision(lockKey) == token}, where the token is the lock key's create revision (the
 * Lock response's header revision). Three things must hold:
 *
 * <ol>
 *   <li><b>fencing order</b>: the protected key's writes, in revision order, carry non-decreasing
 *       tokens, so no two holders' writes interleave and an old holder never writes after a newer one;
 *   <li><b>no overlapping holders</b>: when a write with token {@code t} lands at revision {@code w},
 *       the holder's lock key is alive at {@code w} and no lock key created before {@code t} still is
 *       (the lock is granted only to the oldest live key, so a write made while an older key lives means
 *       two holders at once);
 *   <li><b>no lost fenced write</b>: every acknowledged protected write appears in the history at the
 *       revision its response reported.
 * </ol>
 */
public final class LockChecker {
    private LockChecker() {}

    /** A lock key's life in revisions: created at {@code created}, deleted at {@code deleted} (Long.MAX_VALUE if alive at the end). */
    public record KeyLife(String key, long created, long deleted) {}

    /** A write of the protected key, as the history or an acknowledgement shows it. */
    public record FencedWrite(long revision, long token, String value) {}

    public static List<Violation> check(List<KeyLife> lockKeys, List<FencedWrite> history, List<FencedWrite> acked) {
        var out = new ArrayList<Violation>();
        var sorted = new ArrayList<>(history);
        sorted.sort(Comparator.comparingLong(FencedWrite::revision));
        Map<Long, KeyLife> byCreate = new HashMap<>();
        for (KeyLife k : lockKeys) byCreate.put(k.created(), k);
        FencedWrite maxSoFar = null;
        for (int i = 0; i < sorted.size(); i++) {
            FencedWrite w = sorted.get(i);
            if (maxSoFar != null && w.token() < maxSoFar.token()) {
                out.add(new Violation("lock", "fencing-order", "write " + w + " carries an older token than " + maxSoFar
                        + " before it", window(sorted, i)));
                break;
            }
            if (maxSoFar == null || w.token() > maxSoFar.token()) maxSoFar = w;
        }
        for (int i = 0; i < sorted.size(); i++) {
            FencedWrite w = sorted.get(i);
            KeyLife own = byCreate.get(w.token());
            if (own == null || own.created() > w.revision() || own.deleted() <= w.revision()) {
                out.add(new Violation("lock", "dead-token", "write " + w + " succeeded but its lock key "
                        + (own == null ? "never existed" : own + " was not alive then"), window(sorted, i)));
                break;
            }
            KeyLife older = null;
            for (KeyLife k : lockKeys) {
                if (k.created() < w.token() && k.created() < w.revision() && k.deleted() > w.revision()) {
                    older = k;
                    break;
                }
            }
            if (older != null) {
                out.add(new Violation("lock", "overlapping-holders", "holder with token " + w.token() + " wrote at revision "
                        + w.revision() + " while the older lock key " + older + " was still alive", window(sorted, i)));
                break;
            }
        }
        Map<Long, FencedWrite> byRev = new HashMap<>();
        for (FencedWrite w : history) byRev.put(w.revision(), w);
        for (FencedWrite a : acked) {
            FencedWrite h = byRev.get(a.revision());
            if (h == null || h.token() != a.token() || !h.value().equals(a.value())) {
                out.add(new Violation("lock", "lost-fenced-write", "acknowledged " + a + " but the history has " + h, ""));
                break;
            }
        }
        return out;
    }

    private static String window(List<FencedWrite> sorted, int at) {
        return "protected writes in revision order: " + sorted.subList(Math.max(0, at - 3), Math.min(sorted.size(), at + 2));
    }
}
