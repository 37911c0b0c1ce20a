package io.synod.chaos.checkers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The set check reports lost writes, phantoms and diverged members, and accepts unacknowledged writes either way. */
class SetCheckerTest {
    @Test
    void lostAcknowledgedWriteIsReported() {
        var v = SetChecker.check(Set.of("a", "b"), Set.of("a", "b"), Map.of("c1", Set.of("a", "b"), "c2", Set.of("a")),
                Map.of("c1", 1L, "c2", 1L), 10);
        assertThat(v).extracting(Violation::kind).containsExactly("lost-write");
        assertThat(v.get(0).detail()).contains("c2");
        assertThat(v.get(0).window()).contains("b");
    }

    @Test
    void phantomAndDivergenceAreReported() {
        var v = SetChecker.check(Set.of("a"), Set.of("a"), Map.of("c1", Set.of("a", "zz")), Map.of("c1", 1L, "c2", 2L), 10);
        assertThat(v).extracting(Violation::kind).containsExactlyInAnyOrder("phantom-write", "divergent-members");
    }

    @Test
    void unacknowledgedWritesMayOrMayNotBePresent() {
        var v = SetChecker.check(Set.of("a"), Set.of("a", "b", "c"), Map.of("c1", Set.of("a", "b"), "c2", Set.of("a", "b")),
                Map.of("c1", 5L, "c2", 5L), 10);
        assertThat(v).isEmpty();
    }
}
