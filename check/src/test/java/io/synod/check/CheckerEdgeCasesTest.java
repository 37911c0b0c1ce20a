package io.synod.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.check.kv.KvInput;
import io.synod.check.kv.KvModel;
import io.synod.check.kv.KvOutput;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Input validation, the time budget, and scale behaviour that the hand-written cases do not reach. */
class CheckerEdgeCasesTest {
    private static final KvModel MODEL = new KvModel();

    @Test
    void okOperationReturningBeforeInvocationIsRejectedByName() {
        List<Operation<KvInput, KvOutput>> h = List.of(
                Operation.ok(0, new KvInput.Put("x", 1), new KvOutput.PutOk(), 0, 10),
                Operation.ok(3, new KvInput.Get("x"), new KvOutput.GetResult(1), 50, 40));
        assertThatThrownBy(() -> LinearizabilityChecker.check(MODEL, h, 1_000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("operation #1")
                .hasMessageContaining("clientId=3");
    }

    @Test
    void unknownOperationReturnTimeIsIgnored() {
        List<Operation<KvInput, KvOutput>> h = List.of(
                new Operation<>(0, new KvInput.Put("x", 1), null, 50, 10, Outcome.UNKNOWN),
                Operation.ok(1, new KvInput.Get("x"), new KvOutput.GetResult(1), 100, 110));
        assertThat(LinearizabilityChecker.check(MODEL, h, 1_000).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void okOperationWithoutOutputIsRejected() {
        List<Operation<KvInput, KvOutput>> h = List.of(new Operation<>(0, new KvInput.Get("x"), null, 0, 1, Outcome.OK));
        assertThatThrownBy(() -> LinearizabilityChecker.check(MODEL, h, 1_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operation #0");
    }

    @Test
    void mismatchedOutputKindIsRejected() {
        List<Operation<KvInput, KvOutput>> h = List.of(
                Operation.ok(0, new KvInput.Get("x"), new KvOutput.PutOk(), 0, 1));
        assertThatThrownBy(() -> LinearizabilityChecker.check(MODEL, h, 1_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operation #0");
    }

    @Test
    void absentValueCannotBeWritten() {
        assertThatThrownBy(() -> new KvInput.Put("x", KvModel.ABSENT)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KvInput.Cas("x", 1, KvModel.ABSENT)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Many fully concurrent writes of distinct values plus a read of a value nobody wrote: the read
     * is illegal, but proving it means visiting every (set of writes done, last write) pair, about
     * n * 2^n configurations, which no budget of milliseconds covers.
     */
    static List<Operation<KvInput, KvOutput>> adversarial(int writers) {
        List<Operation<KvInput, KvOutput>> h = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            h.add(Operation.ok(i, new KvInput.Put("x", i + 1), new KvOutput.PutOk(), 0, 1_000));
        }
        h.add(Operation.ok(writers, new KvInput.Get("x"), new KvOutput.GetResult(-42), 0, 1_000));
        return h;
    }

    @Test
    void adversarialHistoryWithTinyBudgetIsUnknownNotLinearizable() {
        long start = System.nanoTime();
        CheckResult r = LinearizabilityChecker.check(MODEL, adversarial(40), 50);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.UNKNOWN);
        assertThat(r.isLinearizable()).isFalse();
        assertThat(r.explanation()).contains("partition 1 of 1").contains("50 ms");
        // The budget is honoured loosely (clock read every 1024 steps), not ignored.
        assertThat(tookMillis).isLessThan(5_000);
    }

    @Test
    void searchThatOutgrowsItsMemoryBoundIsUnknown() {
        CheckResult r = LinearizabilityChecker.check(MODEL, adversarial(40), 60_000, 1L << 20);
        assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.UNKNOWN);
        assertThat(r.explanation()).contains("gave up after memoizing");
    }

    @Test
    void adversarialHistoryThatFitsTheBudgetIsDecided() {
        // The same shape at a size the search can exhaust shows the UNKNOWN above is only the budget.
        CheckResult r = LinearizabilityChecker.check(MODEL, adversarial(8), 10_000);
        assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }

    @Test
    void violationInAnotherPartitionBeatsATimeout() {
        List<Operation<KvInput, KvOutput>> h = new ArrayList<>(adversarial(40));
        h.add(Operation.ok(99, new KvInput.Get("y"), new KvOutput.GetResult(5), 0, 1));
        CheckResult r = LinearizabilityChecker.check(MODEL, h, 50);
        assertThat(r.verdict()).as(r.explanation()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(r.explanation()).contains("key \"y\"");
    }

    @Test
    void modelWhosePartitionLosesAnOkOperationIsCaught() {
        Model<Long, KvInput, KvOutput> lossy = new Model<>() {
            @Override
            public Long initialState() {
                return MODEL.initialState();
            }

            @Override
            public java.util.Optional<Long> step(Long state, KvInput input, KvOutput output) {
                return MODEL.step(state, input, output);
            }

            @Override
            public Long stepUnknown(Long state, KvInput input) {
                return MODEL.stepUnknown(state, input);
            }

            @Override
            public List<List<Operation<KvInput, KvOutput>>> partition(List<Operation<KvInput, KvOutput>> history) {
                return List.of(history.subList(0, history.size() - 1));
            }
        };
        List<Operation<KvInput, KvOutput>> h = List.of(
                Operation.ok(0, new KvInput.Put("x", 1), new KvOutput.PutOk(), 0, 10),
                Operation.ok(1, new KvInput.Get("x"), new KvOutput.GetResult(7), 20, 30));
        assertThatThrownBy(() -> LinearizabilityChecker.check(lossy, h, 1_000))
                .isInstanceOf(io.synod.common.Assert.InvariantViolation.class)
                .hasMessageContaining("omits OK operation #1");
    }

    @Test
    void nonPositiveBudgetIsRejected() {
        assertThatThrownBy(() -> LinearizabilityChecker.check(MODEL, List.of(), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hugeBudgetDoesNotOverflowTheDeadline() {
        List<Operation<KvInput, KvOutput>> h = List.of(Operation.ok(0, new KvInput.Get("x"), new KvOutput.GetResult(KvModel.ABSENT), 0, 1));
        assertThat(LinearizabilityChecker.check(MODEL, h, Long.MAX_VALUE).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void longSequentialHistoryDoesNotOverflowTheStack() {
        // 20k strictly sequential ops on one key: the search depth equals the history length.
        List<Operation<KvInput, KvOutput>> h = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            h.add(Operation.ok(0, new KvInput.Put("x", i), new KvOutput.PutOk(), 4L * i, 4L * i + 1));
            h.add(Operation.ok(1, new KvInput.Get("x"), new KvOutput.GetResult(i), 4L * i + 2, 4L * i + 3));
        }
        assertThat(LinearizabilityChecker.check(MODEL, h, 30_000).verdict()).isEqualTo(Verdict.LINEARIZABLE);
        h.set(h.size() - 1, Operation.ok(1, new KvInput.Get("x"), new KvOutput.GetResult(3), 4L * 9_999 + 2, 4L * 9_999 + 3));
        CheckResult r = LinearizabilityChecker.check(MODEL, h, 30_000);
        assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(r.explanation()).contains("19999 of 20000").contains("earlier operations elided");
    }
}
