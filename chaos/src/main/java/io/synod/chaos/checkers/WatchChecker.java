package io.synod.chaos.checkers;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks what watchers of one prefix saw against the store's history of that prefix: each watcher
 * (including those that restarted from their last seen revision + 1) must have seen every event of
 * the reference exactly once, in revision order, with the same content; so all watchers agree.
 * The reference itself must match the final store: every key present at the end was last written
 * by a PUT event of the reference at its mod revision.
 *
 * <p>Reports are precise about the first place a watcher departs from the reference (ordering,
 * duplicate, missing, extra or different event), with the events around it as the window.
 */
public final class WatchChecker {
    private WatchChecker() {}

    /**
     * @param reference the prefix's events from a fresh watch from revision 1 after the run
     * @param watchers per watcher, what it received up to the reference's last revision
     * @param finalModRevisions key to mod revision of every key of the prefix in the final store
     */
    public static List<Violation> check(List<WatchEvent> reference, Map<String, List<WatchEvent>> watchers,
            Map<String, Long> finalModRevisions) {
        var out = new ArrayList<Violation>();
        out.addAll(orderAndUniqueness("reference", reference));
        var byRevKey = new java.util.HashMap<String, WatchEvent>();
        for (WatchEvent e : reference) byRevKey.put(e.revision() + " " + e.key(), e);
        finalModRevisions.forEach((key, rev) -> {
            WatchEvent e = byRevKey.get(rev + " " + key);
            if (e == null || !e.type().equals("PUT")) {
                out.add(new Violation("watch", "history-mismatch", "final store holds " + key + " at mod revision " + rev
                        + " but the watch history has " + (e == null ? "no event there" : e), ""));
            }
        });
        long last = reference.isEmpty() ? 0 : reference.get(reference.size() - 1).revision();
        watchers.forEach((name, seen) -> {
            var bad = orderAndUniqueness(name, seen);
            out.addAll(bad);
            if (!bad.isEmpty()) return;
            List<WatchEvent> upTo = seen.stream().filter(e -> e.revision() <= last).toList();
            int i = 0;
            for (; i < Math.min(upTo.size(), reference.size()); i++) {
                if (!Objects.equals(upTo.get(i), reference.get(i))) {
                    WatchEvent got = upTo.get(i), want = reference.get(i);
                    String kind = got.revision() > want.revision() ? "missing-event"
                            : got.revision() < want.revision() && !byRevKey.containsKey(got.revision() + " " + got.key()) ? "extra-event"
                            : "different-event";
                    out.add(new Violation("watch", kind, name + " event #" + i + ": expected " + want + ", got " + got,
                            window(name, upTo, reference, i)));
                    return;
                }
            }
            if (upTo.size() < reference.size()) {
                out.add(new Violation("watch", "missing-event", name + " stopped after " + upTo.size() + " of " + reference.size()
                        + " events; first missing " + reference.get(upTo.size()), window(name, upTo, reference, upTo.size())));
            } else if (upTo.size() > reference.size()) {
                out.add(new Violation("watch", "extra-event", name + " saw " + upTo.get(reference.size()) + " beyond the history",
                        window(name, upTo, reference, reference.size())));
            }
        });
        return out;
    }

    /** Revisions never go back and no (revision, key) arrives twice. */
    static List<Violation> orderAndUniqueness(String name, List<WatchEvent> seen) {
        Set<String> ids = new HashSet<>();
        long prev = 0;
        for (int i = 0; i < seen.size(); i++) {
            WatchEvent e = seen.get(i);
            if (!ids.add(e.revision() + " " + e.key())) {
                return List.of(new Violation("watch", "duplicate-event", name + " received " + e + " twice (event #" + i + ")",
                        window(name, seen, List.of(), i)));
            }
            if (e.revision() < prev) {
                return List.of(new Violation("watch", "out-of-order", name + " went back from revision " + prev + " to " + e,
                        window(name, seen, List.of(), i)));
            }
            prev = e.revision();
        }
        return List.of();
    }

    private static String window(String name, List<WatchEvent> seen, List<WatchEvent> reference, int at) {
        var sb = new StringBuilder();
        int from = Math.max(0, at - 3);
        sb.append(name).append(" events ").append(from).append("..: ").append(seen.subList(from, Math.min(seen.size(), at + 3)));
        if (!reference.isEmpty()) {
            sb.append("\nreference events ").append(from).append("..: ")
                    .append(reference.subList(Math.min(from, reference.size()), Math.min(reference.size(), at + 3)));
        }
        return sb.toString();
    }
}
