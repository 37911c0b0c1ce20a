package io.synod.chaos.checkers;

import java.util.ArrayList;
import java.util.List;

/**
 * Lease guarantees, as etcd states them: a lease never expires early (it may expire late), and
 * once it has expired or was revoked its keys are gone. Times are the harness's monotonic clock
 * (the members run on the same machine and clock).
 *
 * <ul>
 *   <li><b>early expiry</b>: after a grant or keep-alive acknowledged with TTL {@code T} that was sent at
 *       {@code i}, the lease lives at least until {@code i + T}; a linearizable read of its key that was
 *       sent after the key's put was acknowledged and returned "absent" before that deadline (and before
 *       any revoke was sent) is a violation;
 *   <li><b>never expires</b>: a lease that was abandoned (no more keep-alives) or revoked must have lost
 *       its key once it had no way to live on: later than its last renewal attempt (acknowledged or not:
 *       the server may apply an unanswered keep-alive up to its request timeout later) plus the request
 *       timeout plus the TTL, and later than one TTL after the current leader took over (a new leader
 *       restarts countdowns from the replicated remaining time, so leader churn legitimately prolongs
 *       leases), both plus a slack for the expiry check's period and the commit.
 * </ul>
 */
public final class LeaseChecker {
    private LeaseChecker() {}

    /** A grant or keep-alive: sent at {@code invokeNanos}, acknowledged at {@code returnNanos} with {@code ttlSeconds} left. */
    public record Renewal(long invokeNanos, long returnNanos, long ttlSeconds) {}

    /** A linearizable read of the lease's key. */
    public record Read(long invokeNanos, long returnNanos, boolean present) {}

    /**
     * One lease's record. {@code endNanos} is when the client stopped renewing (abandoned) or sent the
     * revoke, {@code Long.MAX_VALUE} if it kept renewing to the end; {@code lastAttemptNanos} is when it last
     * sent a grant, keep-alive or revoke, answered or not; {@code finalPresent} is whether the key was present
     * at {@code finalCheckNanos}, and {@code leaderSinceNanos} since when the leader (and term) seen at that
     * check had been in place.
     */
    public record LeaseRecord(long id, String key, long putAckNanos, List<Renewal> renewals, List<Read> reads,
            long revokeInvokeNanos, long endNanos, long lastAttemptNanos, boolean finalPresent, long finalCheckNanos,
            long leaderSinceNanos) {}

    /** The time after which the record's key must be gone (see the class comment). */
    public static long mustBeGoneBy(LeaseRecord l, long requestTimeoutNanos, long slackNanos) {
        long ttl = 0;
        for (Renewal r : l.renewals()) ttl = Math.max(ttl, r.ttlSeconds() * 1_000_000_000L);
        return Math.max(Math.max(l.lastAttemptNanos(), l.endNanos()) + requestTimeoutNanos, l.leaderSinceNanos()) + ttl + slackNanos;
    }

    public static List<Violation> check(List<LeaseRecord> leases, long requestTimeoutNanos, long slackNanos) {
        var out = new ArrayList<Violation>();
        for (LeaseRecord l : leases) {
            early(l).ifPresent(out::add);
            if (l.endNanos() != Long.MAX_VALUE && l.finalPresent()) {
                long gone = mustBeGoneBy(l, requestTimeoutNanos, slackNanos);
                if (l.finalCheckNanos() > gone) {
                    out.add(new Violation("lease", "never-expired", "key " + l.key() + " of lease " + Long.toHexString(l.id())
                            + " still present " + (l.finalCheckNanos() - gone) / 1_000_000 + " ms after it had to be gone (last attempt + "
                            + "request timeout + TTL, and TTL after the current leader took over, plus slack)", describe(l)));
                }
            }
        }
        return out;
    }

    private static java.util.Optional<Violation> early(LeaseRecord l) {
        for (Read read : l.reads()) {
            if (read.present() || read.invokeNanos() < l.putAckNanos() || read.returnNanos() >= l.revokeInvokeNanos()) continue;
            for (Renewal r : l.renewals()) {
                if (r.ttlSeconds() <= 0 || r.returnNanos() >= read.invokeNanos()) continue;
                long guaranteed = r.invokeNanos() + r.ttlSeconds() * 1_000_000_000L;
                if (read.returnNanos() < guaranteed) {
                    return java.util.Optional.of(new Violation("lease", "early-expiry", "key " + l.key() + " of lease "
                            + Long.toHexString(l.id()) + " was absent " + (guaranteed - read.returnNanos()) / 1_000_000
                            + " ms before the lease could expire (renewal " + r + ", read " + read + ")", describe(l)));
                }
            }
        }
        return java.util.Optional.empty();
    }

    private static String describe(LeaseRecord l) {
        return "lease " + Long.toHexString(l.id()) + " key " + l.key() + " putAck=" + l.putAckNanos() + " renewals(last 5)="
                + l.renewals().subList(Math.max(0, l.renewals().size() - 5), l.renewals().size()) + " revoke="
                + (l.revokeInvokeNanos() == Long.MAX_VALUE ? "none" : l.revokeInvokeNanos()) + " end="
                + (l.endNanos() == Long.MAX_VALUE ? "kept alive" : l.endNanos()) + " lastAttempt=" + l.lastAttemptNanos()
                + " finalPresent=" + l.finalPresent() + " at " + l.finalCheckNanos() + " (leader in place since " + l.leaderSinceNanos() + ")";
    }
}
