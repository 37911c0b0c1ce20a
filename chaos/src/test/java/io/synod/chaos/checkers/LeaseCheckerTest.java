package io.synod.chaos.checkers;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.chaos.checkers.LeaseChecker.LeaseRecord;
import io.synod.chaos.checkers.LeaseChecker.Read;
import io.synod.chaos.checkers.LeaseChecker.Renewal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lease check reports a key that vanished under a live lease and a key that outlived its lease. */
class LeaseCheckerTest {
    static final long S = 1_000_000_000L;
    static final long TIMEOUT = 5 * S, SLACK = 2 * S;

    static LeaseRecord rec(List<Renewal> renewals, List<Read> reads, long revoke, long end, long lastAttempt, boolean present, long at,
            long leaderSince) {
        return new LeaseRecord(1, "k", 1 * S, renewals, reads, revoke, end, lastAttempt, present, at, leaderSince);
    }

    @Test
    void keyGoneWhileTheLeaseWasRenewedIsReported() {
        // Renewed at 10 s with TTL 3, so alive until at least 13 s; a read at 11-11.1 s finds nothing.
        var l = rec(List.of(new Renewal(0, S / 10, 3), new Renewal(10 * S, 10 * S + 5, 3)), List.of(new Read(11 * S, 11 * S + S / 10, false)),
                Long.MAX_VALUE, Long.MAX_VALUE, 10 * S, false, 100 * S, 0);
        assertThat(LeaseChecker.check(List.of(l), TIMEOUT, SLACK)).extracting(Violation::kind).containsExactly("early-expiry");
    }

    @Test
    void keyGoneAfterTheLastRenewalRanOutIsFine() {
        var l = rec(List.of(new Renewal(0, S / 10, 3)), List.of(new Read(4 * S, 4 * S + 1, false)), Long.MAX_VALUE, 2 * S, 0, false,
                100 * S, 0);
        assertThat(LeaseChecker.check(List.of(l), TIMEOUT, SLACK)).isEmpty();
    }

    @Test
    void keyOutlivingItsAbandonedLeaseIsReported() {
        // Last attempt at 2 s: gone by 2 + 5 + 3 + 2 = 12 s at the latest, the leader being in place since 1 s.
        var l = rec(List.of(new Renewal(0, S / 10, 3)), List.of(), Long.MAX_VALUE, 2 * S, 2 * S, true, 30 * S, 1 * S);
        assertThat(LeaseChecker.check(List.of(l), TIMEOUT, SLACK)).extracting(Violation::kind).containsExactly("never-expired");
    }

    @Test
    void anUnansweredKeepAliveOrALeaderChangeMayProlongTheLease() {
        // Still present at 11 s: within last attempt + timeout + TTL + slack.
        var l = rec(List.of(new Renewal(0, S / 10, 3)), List.of(), Long.MAX_VALUE, 2 * S, 2 * S, true, 11 * S, 1 * S);
        assertThat(LeaseChecker.check(List.of(l), TIMEOUT, SLACK)).isEmpty();
        // Still present at 30 s, but a new leader took over at 26 s and restarted the countdown.
        var churn = rec(List.of(new Renewal(0, S / 10, 3)), List.of(), Long.MAX_VALUE, 2 * S, 2 * S, true, 30 * S, 26 * S);
        assertThat(LeaseChecker.check(List.of(churn), TIMEOUT, SLACK)).isEmpty();
    }

    @Test
    void readsAfterARevokeMayFindNothing() {
        var l = rec(List.of(new Renewal(0, S / 10, 30)), List.of(new Read(5 * S, 5 * S + 1, false)), 4 * S, 4 * S, 4 * S, false, 100 * S, 0);
        assertThat(LeaseChecker.check(List.of(l), TIMEOUT, SLACK)).isEmpty();
    }
}
