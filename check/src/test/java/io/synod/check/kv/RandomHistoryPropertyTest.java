package io.synod.check.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.check.CheckResult;
import io.synod.check.LinearizabilityChecker;
import io.synod.check.Operation;
import io.synod.check.Outcome;
import io.synod.check.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Property: histories produced by a real register with intervals around the true linearization
 * points are linearizable; changing one read to a value never written makes them not. Seeds are
 * fixed for reproducibility; set {@code -Dcheck.seed=N} to explore a different range.
 */
class RandomHistoryPropertyTest {
    private static final long BASE_SEED = Long.getLong("check.seed", 20261122L);
    private static final int CASES = 150;

    @Test
    void generatedHistoriesAreLinearizableAndBreakWhenAReadIsCorrupted() {
        int mutated = 0;
        for (int c = 0; c < CASES; c++) {
            long seed = BASE_SEED + c;
            SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
            int keys = 1 + rnd.nextInt(4);
            int opsPerKey = 1 + rnd.nextInt(60);
            int concurrency = 1 + rnd.nextInt(6);
            double unknown = rnd.nextInt(3) == 0 ? 0.0 : 0.15;
            List<Operation<KvInput, KvOutput>> history =
                    RandomRegisterHistories.generate(seed, keys, opsPerKey, concurrency, unknown);
            String what = "seed " + seed + " (keys=" + keys + ", opsPerKey=" + opsPerKey + ", concurrency=" + concurrency
                    + ", unknown=" + unknown + ")";

            CheckResult ok = LinearizabilityChecker.check(Kv.MODEL, history, 10_000);
            assertThat(ok.verdict()).as("%s: %s", what, ok.explanation()).isEqualTo(Verdict.LINEARIZABLE);

            List<Integer> reads = new ArrayList<>();
            for (int i = 0; i < history.size(); i++) {
                Operation<KvInput, KvOutput> op = history.get(i);
                if (op.outcome() == Outcome.OK && op.input() instanceof KvInput.Get) reads.add(i);
            }
            if (reads.isEmpty()) continue;
            int victim = reads.get(rnd.nextInt(reads.size()));
            Operation<KvInput, KvOutput> v = history.get(victim);
            List<Operation<KvInput, KvOutput>> corrupted = new ArrayList<>(history);
            corrupted.set(victim, Operation.ok(v.clientId(), v.input(),
                    new KvOutput.GetResult(RandomRegisterHistories.NEVER_WRITTEN_FLOOR + rnd.nextInt(1000)),
                    v.invokeNanos(), v.returnNanos()));
            CheckResult bad = LinearizabilityChecker.check(Kv.MODEL, corrupted, 10_000);
            assertThat(bad.verdict()).as("%s, corrupted op #%d: %s", what, victim, bad.explanation())
                    .isEqualTo(Verdict.NOT_LINEARIZABLE);
            assertThat(bad.explanation()).as(what).contains("key \"" + v.input().key() + "\"");
            mutated++;
        }
        // Guard against a generator that silently stops producing reads.
        assertThat(mutated).isGreaterThan(CASES / 2);
    }

    @Test
    void largeCorrectHistoryIsLinearizable() {
        long seed = BASE_SEED;
        List<Operation<KvInput, KvOutput>> history = RandomRegisterHistories.generate(seed, 20, 200, 10, 0.05);
        CheckResult r = LinearizabilityChecker.check(Kv.MODEL, history, 30_000);
        assertThat(r.verdict()).as("seed %d: %s", seed, r.explanation()).isEqualTo(Verdict.LINEARIZABLE);
    }
}
