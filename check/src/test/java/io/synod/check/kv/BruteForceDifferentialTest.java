package io.synod.check.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.check.CheckResult;
import io.synod.check.LinearizabilityChecker;
import io.synod.check.Operation;
import io.synod.check.Outcome;
import io.synod.check.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Compares the checker with a brute-force definition of linearizability on small random histories
 * with random (often wrong) outputs. The brute force tries every order of the operations that
 * respects real time and every choice of which UNKNOWN operations took effect, straight from the
 * definition, sharing nothing with the checker except the model's step function.
 */
class BruteForceDifferentialTest {
    private static final long BASE_SEED = Long.getLong("check.seed", 7L);
    private static final int CASES = Integer.getInteger("check.cases", 3_000);

    @Test
    void checkerAgreesWithBruteForce() {
        int legal = 0;
        int illegal = 0;
        for (int c = 0; c < CASES; c++) {
            long seed = BASE_SEED + c;
            List<Operation<KvInput, KvOutput>> history = randomHistory(new SplittableRandom(seed));
            boolean expected = bruteForce(history);
            CheckResult r = LinearizabilityChecker.check(Kv.MODEL, history, 10_000);
            assertThat(r.verdict())
                    .as("seed %d, history %s: brute force says %s; checker explanation: %s", seed, history, expected, r.explanation())
                    .isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
            if (expected) legal++;
            else illegal++;
        }
        // Both verdicts must be well represented or the comparison proves little.
        assertThat(legal).isGreaterThan(CASES / 10);
        assertThat(illegal).isGreaterThan(CASES / 10);
    }

    private static final int MAX_OPS = Integer.getInteger("check.maxOps", 7);

    @Test
    void checkerAgreesWithBruteForceOnNearlyCorrectHistories() {
        // Correct-by-construction histories with one or two outputs perturbed to plausible values:
        // these are the subtle cases (stale reads, reordered writes) rather than gross nonsense.
        int legal = 0;
        int illegal = 0;
        for (int c = 0; c < CASES / 3; c++) {
            long seed = BASE_SEED + c;
            SplittableRandom rnd = new SplittableRandom(seed * 31 + 17);
            List<Operation<KvInput, KvOutput>> history = new ArrayList<>(RandomRegisterHistories.generate(
                    seed, 1 + rnd.nextInt(2), 1 + rnd.nextInt(MAX_OPS * 3 / 4), 1 + rnd.nextInt(6), 0.3));
            int perturb = rnd.nextInt(3);
            for (int p = 0; p < perturb && !history.isEmpty(); p++) {
                int i = rnd.nextInt(history.size());
                Operation<KvInput, KvOutput> op = history.get(i);
                if (op.outcome() != Outcome.OK) continue;
                KvOutput out = switch (op.output()) {
                    case KvOutput.GetResult r -> new KvOutput.GetResult(r.value() == KvModel.ABSENT ? 1 : r.value() - 1 <= 0 ? KvModel.ABSENT : r.value() - 1);
                    case KvOutput.CasResult r -> new KvOutput.CasResult(!r.swapped());
                    case KvOutput.PutOk ok -> ok;
                };
                history.set(i, Operation.ok(op.clientId(), op.input(), out, op.invokeNanos(), op.returnNanos()));
            }
            boolean expected = bruteForce(history);
            CheckResult r = LinearizabilityChecker.check(Kv.MODEL, history, 10_000);
            assertThat(r.verdict())
                    .as("seed %d, history %s: brute force says %s; checker explanation: %s", seed, history, expected, r.explanation())
                    .isEqualTo(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE);
            if (expected) legal++;
            else illegal++;
        }
        assertThat(legal).isGreaterThan(CASES / 30);
        assertThat(illegal).isGreaterThan(CASES / 30);
    }

    /** Up to 7 ops on one or two keys, values from a tiny domain so reads often match some write. */
    private static List<Operation<KvInput, KvOutput>> randomHistory(SplittableRandom rnd) {
        int n = 1 + rnd.nextInt(MAX_OPS);
        int keys = 1 + rnd.nextInt(2);
        List<Operation<KvInput, KvOutput>> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String key = "k" + rnd.nextInt(keys);
            long invoke = rnd.nextInt(20);
            long ret = invoke + rnd.nextInt(8);
            int client = i;
            KvInput in;
            KvOutput out;
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    in = new KvInput.Put(key, 1 + rnd.nextInt(3));
                    out = new KvOutput.PutOk();
                }
                case 1 -> {
                    in = new KvInput.Get(key);
                    out = new KvOutput.GetResult(rnd.nextInt(4) == 0 ? KvModel.ABSENT : 1 + rnd.nextInt(3));
                }
                default -> {
                    in = new KvInput.Cas(key, rnd.nextInt(4) == 0 ? KvModel.ABSENT : 1 + rnd.nextInt(3), 1 + rnd.nextInt(3));
                    out = new KvOutput.CasResult(rnd.nextBoolean());
                }
            }
            ops.add(rnd.nextInt(5) == 0 ? Operation.unknown(client, in, invoke) : Operation.ok(client, in, out, invoke, ret));
        }
        return ops;
    }

    /**
     * Linearizable iff some sequence of a subset of the operations, containing every OK one, is
     * legal for the model (across all keys at once: no partitioning) and puts a before b whenever
     * a returned strictly before b was invoked. UNKNOWN ops never return, so they constrain nothing.
     */
    static boolean bruteForce(List<Operation<KvInput, KvOutput>> ops) {
        return extend(ops, new boolean[ops.size()], new java.util.TreeMap<>(), new java.util.HashSet<>());
    }

    /** {@code dead}: (placed ops, per-key values) already shown to have no extension; a plain memo. */
    private static boolean extend(List<Operation<KvInput, KvOutput>> ops, boolean[] placed, java.util.Map<String, Long> state,
            java.util.Set<String> dead) {
        String memo = java.util.Arrays.toString(placed) + state;
        if (dead.contains(memo)) return false;
        boolean allOkPlaced = true;
        for (int i = 0; i < ops.size(); i++) {
            if (!placed[i] && ops.get(i).outcome() == Outcome.OK) allOkPlaced = false;
        }
        if (allOkPlaced) return true;
        for (int a = 0; a < ops.size(); a++) {
            if (placed[a] || !mayGoNext(ops, placed, a)) continue;
            Operation<KvInput, KvOutput> op = ops.get(a);
            String key = op.input().key();
            Long current = state.getOrDefault(key, KvModel.ABSENT);
            Optional<Long> after = op.outcome() == Outcome.OK
                    ? Kv.MODEL.step(current, op.input(), op.output())
                    : Optional.of(Kv.MODEL.stepUnknown(current, op.input()));
            if (after.isEmpty()) continue;
            placed[a] = true;
            state.put(key, after.get());
            boolean found = extend(ops, placed, state, dead);
            state.put(key, current);
            placed[a] = false;
            if (found) return true;
        }
        dead.add(memo);
        return false;
    }

    private static boolean mayGoNext(List<Operation<KvInput, KvOutput>> ops, boolean[] placed, int a) {
        for (int b = 0; b < ops.size(); b++) {
            if (b == a || placed[b]) continue;
            Operation<KvInput, KvOutput> ob = ops.get(b);
            if (ob.outcome() == Outcome.OK && ob.returnNanos() < ops.get(a).invokeNanos()) return false;
        }
        return true;
    }
}
