package io.synod.chaos.checkers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The append/set workload's end-of-run check, after every fault has healed: every acknowledged
 * write is present on every member (a missing one is a lost write), nothing is present that was
 * never attempted (a phantom), and all members report the same {@code HashKV} at the same revision
 * (they converged to one state).
 */
public final class SetChecker {
    private SetChecker() {}

    /**
     * @param acked keys whose put was acknowledged
     * @param attempted every key a put was sent for (acknowledged or with unknown outcome)
     * @param finalKeys per member, the keys of the workload's prefix that member holds at the end
     * @param hashes per member, {@code HashKV} at {@code hashRevision} (members that did not answer are absent)
     */
    public static List<Violation> check(Set<String> acked, Set<String> attempted, Map<String, Set<String>> finalKeys,
            Map<String, Long> hashes, long hashRevision) {
        var out = new ArrayList<Violation>();
        finalKeys.forEach((member, keys) -> {
            var lost = new TreeSet<String>();
            for (String k : acked) if (!keys.contains(k)) lost.add(k);
            if (!lost.isEmpty()) {
                out.add(new Violation("set", "lost-write", lost.size() + " acknowledged write(s) missing on " + member,
                        "missing on " + member + ": " + first(lost, 20)));
            }
            var phantom = new TreeSet<String>();
            for (String k : keys) if (!attempted.contains(k)) phantom.add(k);
            if (!phantom.isEmpty()) {
                out.add(new Violation("set", "phantom-write", phantom.size() + " key(s) on " + member + " were never written",
                        "unexpected on " + member + ": " + first(phantom, 20)));
            }
        });
        if (hashes.values().stream().distinct().count() > 1) {
            out.add(new Violation("set", "divergent-members", "members disagree on HashKV at revision " + hashRevision,
                    "hash_kv@" + hashRevision + ": " + hashes));
        }
        return out;
    }

    private static String first(TreeSet<String> s, int n) {
        var l = new ArrayList<String>();
        for (String k : s) {
            if (l.size() == n) {
                l.add("... (" + (s.size() - n) + " more)");
                break;
            }
            l.add(k);
        }
        return String.join(", ", l);
    }
}
