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

    @Test
    void keyGoneWhileTheLeaseWasRenewedIsReported() {
        // Renewed at 10 s with TTL 3, so alive until at least 13 s; a read at 11-11.1 s finds nothing.
        var l = new LeaseRecord(1, "k", 1 * S, List.of(new Renewal(0, S / 10, 3), new Renewal(10 * S, 10 * S + 5, 3)),
                List.of(new Read(11 * S, 11 * S + S / 10, false)), Long.MAX_VALUE, Long.MAX_VALUE, false, 100 * S);
        var v = LeaseChecker.check(List.of(l), 5 * S);
        assertThat(v).extracting(Violation::kind).containsExactly("early-expiry");
    }

    @Test
    void keyGoneAfterTheLastRenewalRanOutIsFine() {
        var l = new LeaseRecord(1, "k", 1 * S, List.of(new Renewal(0, S / 10, 3)), List.of(new Read(4 * S, 4 * S + 1, false)),
                Long.MAX_VALUE, 2 * S, false, 100 * S);
        assertThat(LeaseChecker.check(List.of(l), 5 * S)).isEmpty();
    }

    @Test
    void keyOutlivingItsAbandonedLeaseIsReported() {
        var l = new LeaseRecord(1, "k", 1 * S, List.of(new Renewal(0, S / 10, 3)), List.of(), Long.MAX_VALUE, 2 * S, true, 30 * S);
        assertThat(LeaseChecker.check(List.of(l), 5 * S)).extracting(Violation::kind).containsExactly("never-expired");
    }

    @Test
    void keyStillPresentWithinTheGraceIsFine() {
        var l = new LeaseRecord(1, "k", 1 * S, List.of(new Renewal(0, S / 10, 3)), List.of(), Long.MAX_VALUE, 2 * S, true, 6 * S);
        assertThat(LeaseChecker.check(List.of(l), 5 * S)).isEmpty();
    }

    @Test
    void readsAfterARevokeMayFindNothing() {
        var l = new LeaseRecord(1, "k", 1 * S, List.of(new Renewal(0, S / 10, 30)), List.of(new Read(5 * S, 5 * S + 1, false)),
                4 * S, 4 * S, false, 100 * S);
        assertThat(LeaseChecker.check(List.of(l), 5 * S)).isEmpty();
    }
}
