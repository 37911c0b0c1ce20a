package io.synod.chaos.checkers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The watch check reports duplicate, missing, reordered and extra events, and mismatches with the final store. */
class WatchCheckerTest {
    static WatchEvent put(long rev, String key) {
        return new WatchEvent(rev, key, "PUT", "v" + rev);
    }

    static final List<WatchEvent> HISTORY = List.of(put(2, "a"), put(3, "b"), put(4, "c"), put(5, "d"));
    static final Map<String, Long> STORE = Map.of("a", 2L, "b", 3L, "c", 4L, "d", 5L);

    @Test
    void identicalWatchersPass() {
        assertThat(WatchChecker.check(HISTORY, Map.of("w0", HISTORY, "w1", HISTORY), STORE)).isEmpty();
    }

    @Test
    void duplicateEventIsReported() {
        var dup = List.of(put(2, "a"), put(3, "b"), put(3, "b"), put(4, "c"), put(5, "d"));
        var v = WatchChecker.check(HISTORY, Map.of("w0", HISTORY, "w1", dup), STORE);
        assertThat(v).extracting(Violation::kind).containsExactly("duplicate-event");
        assertThat(v.get(0).detail()).contains("w1").contains("@3");
    }

    @Test
    void missingEventIsReported() {
        var gap = List.of(put(2, "a"), put(4, "c"), put(5, "d"));
        var v = WatchChecker.check(HISTORY, Map.of("w0", gap), STORE);
        assertThat(v).extracting(Violation::kind).containsExactly("missing-event");
        assertThat(v.get(0).detail()).contains("expected @3 PUT b");
    }

    @Test
    void watcherThatStopsEarlyIsReported() {
        var v = WatchChecker.check(HISTORY, Map.of("w0", HISTORY.subList(0, 2)), STORE);
        assertThat(v).extracting(Violation::kind).containsExactly("missing-event");
    }

    @Test
    void eventGoingBackInTimeIsReported() {
        var back = List.of(put(2, "a"), put(4, "c"), put(3, "b"), put(5, "d"));
        assertThat(WatchChecker.check(HISTORY, Map.of("w0", back), STORE)).extracting(Violation::kind).containsExactly("out-of-order");
    }

    @Test
    void eventNotInTheHistoryIsReported() {
        var extra = List.of(put(2, "a"), put(3, "b"), new WatchEvent(3, "x", "PUT", "?"), put(4, "c"), put(5, "d"));
        assertThat(WatchChecker.check(HISTORY, Map.of("w0", extra), STORE)).extracting(Violation::kind).containsExactly("extra-event");
    }

    @Test
    void historyThatDisagreesWithTheFinalStoreIsReported() {
        var v = WatchChecker.check(HISTORY, Map.of(), Map.of("a", 2L, "e", 9L));
        assertThat(v).extracting(Violation::kind).containsExactly("history-mismatch");
    }
}
