package io.synod.check.kv;

import static io.synod.check.kv.Kv.ABSENT;
import static org.assertj.core.api.Assertions.assertThat;

import io.synod.check.CheckResult;
import io.synod.check.Operation;
import io.synod.check.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Small histories whose verdict can be worked out by hand. Each illegal one is paired with a
 * near-identical legal one where that is informative, so a checker that answers one verdict for
 * everything fails.
 */
class KvHandWrittenHistoriesTest {

    private static void assertLinearizable(Kv h) {
        CheckResult r = h.check();
        assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.LINEARIZABLE);
    }

    private static CheckResult assertNotLinearizable(Kv h) {
        CheckResult r = h.check();
        assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        return r;
    }

    @Test
    void emptyHistoryIsLinearizable() {
        assertLinearizable(new Kv());
    }

    @Test
    void readOfNeverWrittenKeySeesAbsent() {
        assertLinearizable(new Kv().get(0, "x", ABSENT, 0, 10));
        assertNotLinearizable(new Kv().get(0, "x", 0, 0, 10));
    }

    @Test
    void sequentialWriteThenRead() {
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).get(1, "x", 1, 20, 30));
    }

    @Test
    void staleReadAfterCompletedWriteIsIllegal() {
        assertNotLinearizable(new Kv().put(0, "x", 1, 0, 10).put(0, "x", 2, 20, 30).get(1, "x", 1, 40, 50));
        // The same read overlapping the second write may see either value.
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).put(0, "x", 2, 20, 30).get(1, "x", 1, 25, 50));
    }

    @Test
    void readBeforeCompletedWriteMaySeeAbsentOnlyIfConcurrent() {
        assertNotLinearizable(new Kv().put(0, "x", 1, 0, 10).get(1, "x", ABSENT, 11, 20));
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).get(1, "x", ABSENT, 5, 20));
    }

    @Test
    void intervalsThatTouchAreConcurrent() {
        // The read is invoked at the very nanosecond the write returns: documented as concurrent.
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).get(1, "x", ABSENT, 10, 20));
    }

    @Test
    void concurrentWritesReadInEitherOrderAreFine() {
        // Both writes overlap; a reader after both may see whichever was linearized last.
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).put(1, "x", 2, 0, 10).get(2, "x", 1, 20, 30));
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).put(1, "x", 2, 0, 10).get(2, "x", 2, 20, 30));
        // Readers during both writes: one sees 1, one sees 2, then both see 2 — one order explains all.
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 100).put(1, "x", 2, 0, 100)
                .get(2, "x", 1, 10, 20).get(2, "x", 2, 30, 40)
                .get(3, "x", 2, 10, 20).get(3, "x", 2, 30, 40));
    }

    @Test
    void readersCannotObserveConcurrentWritesInOppositeOrders() {
        // Client 2 sees 1 then 2, client 3 sees 2 then 1: no single order of the two writes explains both.
        assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 100).put(1, "x", 2, 0, 100)
                .get(2, "x", 1, 10, 20).get(2, "x", 2, 30, 40)
                .get(3, "x", 2, 10, 20).get(3, "x", 1, 30, 40));
    }

    @Test
    void readsAfterConcurrentWritesMustAgreeOnTheOrder() {
        // Once both writes are done, two sequential readers cannot see 1 then 2 then 1.
        assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10).put(1, "x", 2, 0, 10)
                .get(2, "x", 1, 20, 30).get(3, "x", 2, 40, 50));
    }

    @Test
    void readOfValueNeverWrittenIsIllegal() {
        assertNotLinearizable(new Kv().put(0, "x", 1, 0, 10).get(1, "x", 7, 0, 30));
    }

    @Test
    void casSucceedingTwiceFromTheSameExpectedValueIsIllegal() {
        assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .cas(1, "x", 1, 2, true, 20, 40)
                .cas(2, "x", 1, 3, true, 20, 40));
        // One winner, one loser is the legal version.
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .cas(1, "x", 1, 2, true, 20, 40)
                .cas(2, "x", 1, 3, false, 20, 40));
    }

    @Test
    void casMustSwapWhenValueMatches() {
        assertNotLinearizable(new Kv().put(0, "x", 1, 0, 10).cas(1, "x", 1, 2, false, 20, 30));
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).cas(1, "x", 5, 2, false, 20, 30));
    }

    @Test
    void casOnAbsentKey() {
        assertLinearizable(new Kv().cas(0, "x", ABSENT, 1, true, 0, 10).get(0, "x", 1, 20, 30));
        assertNotLinearizable(new Kv().put(0, "x", 5, 0, 10).cas(1, "x", ABSENT, 1, true, 20, 30));
    }

    @Test
    void lostWriteObservedLaterIsIllegal() {
        // Write 2 completed after write 1, yet a later read sees 1: write 2 was lost.
        assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .put(1, "x", 2, 20, 30)
                .get(2, "x", 2, 40, 50)
                .get(2, "x", 1, 60, 70));
    }

    @Test
    void unknownPutWhoseValueIsLaterReadIsLegal() {
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .unknownPut(1, "x", 2, 20)
                .get(2, "x", 2, 1_000, 1_010));
    }

    @Test
    void unknownPutNeverObservedIsLegal() {
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .unknownPut(1, "x", 2, 20)
                .get(2, "x", 1, 30, 40)
                .get(2, "x", 1, 1_000, 1_010));
    }

    @Test
    void unknownPutObservedLateAfterBeingUnobservedIsLegal() {
        // It may take effect long after the client gave up on it.
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .unknownPut(1, "x", 2, 20)
                .get(2, "x", 1, 30, 40)
                .get(2, "x", 2, 1_000, 1_010));
    }

    @Test
    void unobservableUnknownWritesAreLeftOutOfPartitionsButOthersKept() {
        List<Operation<KvInput, KvOutput>> ops = new Kv()
                .put(0, "x", 1, 0, 10)
                .unknownPut(1, "x", 2, 20)      // never read: dropped
                .unknownPut(1, "x", 3, 20)      // read below: kept
                .unknownCas(2, "x", 1, 4, 20)   // never read: dropped
                .get(3, "x", 3, 30, 40)
                .ops();
        assertThat(Kv.MODEL.partition(ops)).singleElement().satisfies(p -> assertThat(p).hasSize(3));
        // A CAS failing after the write was invoked could be explained by it, so it must stay.
        List<Operation<KvInput, KvOutput>> withFailedCas = new Kv()
                .put(0, "x", 1, 0, 10).unknownPut(1, "x", 2, 20).cas(2, "x", 1, 5, false, 30, 40).ops();
        assertThat(Kv.MODEL.partition(withFailedCas).get(0)).hasSize(3);
        assertLinearizable(new Kv().put(0, "x", 1, 0, 10).unknownPut(1, "x", 2, 20).cas(2, "x", 1, 5, false, 30, 40));
    }

    @Test
    void unknownPutCannotTakeEffectBeforeItWasInvoked() {
        assertNotLinearizable(new Kv()
                .get(2, "x", 2, 0, 10)
                .unknownPut(1, "x", 2, 20));
    }

    @Test
    void readOfUnknownWriteThenOlderValueIsIllegal() {
        assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10)
                .unknownPut(1, "x", 2, 20)
                .get(2, "x", 2, 30, 40)
                .get(2, "x", 1, 50, 60));
    }

    @Test
    void unknownCasTakesEffectOnlyIfItsExpectationHolds() {
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 10).unknownCas(1, "x", 1, 2, 20).get(2, "x", 2, 30, 40));
        assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10).unknownCas(1, "x", 9, 2, 20).get(2, "x", 2, 30, 40));
    }

    @Test
    void unknownOperationsAloneAreLinearizable() {
        assertLinearizable(new Kv().unknownPut(0, "x", 1, 0).unknownGet(1, "x", 0).unknownCas(2, "x", 1, 2, 5));
    }

    @Test
    void keysAreIndependentButEachIsChecked() {
        assertLinearizable(new Kv()
                .put(0, "x", 1, 0, 10).put(1, "y", 1, 0, 10)
                .get(2, "x", 1, 20, 30).get(2, "y", 1, 20, 30));
        CheckResult r = assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10).put(1, "y", 1, 0, 10)
                .get(2, "x", 1, 20, 30).get(2, "y", ABSENT, 20, 30));
        assertThat(r.explanation()).contains("key \"y\"").doesNotContain("key \"x\"");
    }

    @Test
    void explanationNamesPrefixAndFailingOps() {
        CheckResult r = assertNotLinearizable(new Kv().put(0, "x", 1, 0, 10).put(0, "x", 2, 20, 30).get(1, "x", 1, 40, 50));
        assertThat(r.explanation())
                .contains("partition 1 of 1 (key \"x\", 3 operations)")
                .contains("Longest linearizable prefix found: 2 of 3")
                .contains("1. #0 client 0 [0, 10] put(x, 1) -> ok")
                .contains("2. #1 client 0 [20, 30] put(x, 2) -> ok")
                .contains("State after the prefix: 2")
                .contains("#2 client 1 [40, 50] get(x) -> 1  -- not a legal result in state 2");
    }

    @Test
    void explanationShowsIndeterminateOpsAsOpenEnded() {
        CheckResult r = assertNotLinearizable(new Kv()
                .put(0, "x", 1, 0, 10).unknownPut(1, "x", 2, 20).get(2, "x", 2, 30, 40).get(2, "x", 1, 50, 60));
        assertThat(r.explanation())
                .contains("2. #1 client 1 [20, inf) put(x, 2) -> ? (outcome unknown)   => state 2")
                .contains("first of them to return, which had to take effect by then:\n  #3 client 2 [50, 60] get(x) -> 1");
    }

    @Test
    void sameInputGivesSameExplanation() {
        Kv h = new Kv().put(0, "a", 1, 0, 10).put(1, "a", 2, 0, 10).get(2, "a", 1, 20, 30).get(3, "a", 2, 40, 50)
                .put(0, "b", 1, 0, 10).get(1, "b", 3, 0, 10);
        CheckResult first = h.check();
        assertThat(first.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        for (int i = 0; i < 5; i++) assertThat(h.check()).isEqualTo(first);
    }
}
