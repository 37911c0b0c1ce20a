package io.synod.chaos.checkers;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The store's revision never goes back in real time: an operation served linearizably (a
 * linearizable read, a put, a txn) that starts after another such operation has returned must
 * report a header revision at least as high. Catches a member that lost acknowledged state and
 * serves from it (a revision that decreased after a crash, etcd #17780), or a stale member answering a
 * linearizable read (#15271), even when the values alone would not show it.
 */
public final class RevisionChecker {
    private RevisionChecker() {}

    /** One acknowledged linearizable operation: its interval and the revision in its response header. */
    public record Observed(int client, String what, long invokeNanos, long returnNanos, long revision) {}

    public static Optional<Violation> check(List<Observed> ops) {
        var byInvoke = new ArrayList<>(ops);
        byInvoke.sort(Comparator.comparingLong(Observed::invokeNanos));
        var byReturn = new ArrayList<>(ops);
        byReturn.sort(Comparator.comparingLong(Observed::returnNanos));
        Observed highest = null;
        int r = 0;
        for (Observed op : byInvoke) {
            // Everything that returned strictly before this one was invoked precedes it in real time.
            while (r < byReturn.size() && byReturn.get(r).returnNanos() < op.invokeNanos()) {
                Observed done = byReturn.get(r++);
                if (highest == null || done.revision() > highest.revision()) highest = done;
            }
            if (highest != null && op.revision() < highest.revision()) {
                return Optional.of(new Violation("register", "revision-went-back", op + " reported revision " + op.revision()
                        + " after " + highest + " had returned revision " + highest.revision(),
                        "earlier: " + highest + "\nlater:   " + op));
            }
        }
        return Optional.empty();
    }
}
