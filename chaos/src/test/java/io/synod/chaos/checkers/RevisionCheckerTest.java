package io.synod.chaos.checkers;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.chaos.checkers.RevisionChecker.Observed;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A revision lower than one already returned is reported; concurrent operations may report either order. */
class RevisionCheckerTest {
    @Test
    void revisionGoingBackIsReported() {
        var v = RevisionChecker.check(List.of(new Observed(0, "put", 0, 10, 7), new Observed(1, "get", 20, 30, 5)));
        assertThat(v).isPresent();
        assertThat(v.get().kind()).isEqualTo("revision-went-back");
        assertThat(v.get().detail()).contains("revision 5").contains("revision 7");
    }

    @Test
    void concurrentOperationsMayReportLowerRevisions() {
        assertThat(RevisionChecker.check(List.of(new Observed(0, "put", 0, 30, 7), new Observed(1, "get", 10, 40, 5),
                new Observed(2, "get", 50, 60, 7)))).isEmpty();
    }
}
