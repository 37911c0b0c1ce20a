package io.synod.check.kv;

import io.synod.check.Model;
import io.synod.check.Operation;
import io.synod.check.Outcome;
import io.synod.check.kv.KvInput.Cas;
import io.synod.check.kv.KvInput.Get;
import io.synod.check.kv.KvInput.Put;
import io.synod.check.kv.KvOutput.CasResult;
import io.synod.check.kv.KvOutput.GetResult;
import io.synod.check.kv.KvOutput.PutOk;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sequential specification of Synod's key-value API as independent registers, one per key,
 * supporting put, get and compare-and-set. Because keys do not interact, the history is
 * partitioned by key and the state of a partition is just that key's current value (a boxed long,
 * {@link #ABSENT} until first written), which keeps memoization cheap.
 */
public final class KvModel implements Model<Long, KvInput, KvOutput> {
    /** The value of a key that was never written: what a Get returns and what a Cas may expect. */
    public static final long ABSENT = Long.MIN_VALUE;

    private static final Long ABSENT_BOXED = ABSENT;

    @Override
    public Long initialState() {
        return ABSENT_BOXED;
    }

    @Override
    public Optional<Long> step(Long state, KvInput input, KvOutput output) {
        return switch (input) {
            case Put p when output instanceof PutOk -> Optional.of(p.value());
            case Get g when output instanceof GetResult r -> r.value() == state ? Optional.of(state) : Optional.empty();
            case Cas c when output instanceof CasResult r -> {
                boolean matches = state == c.expected();
                // A CAS must swap exactly when the value matches; a spurious failure is a violation too.
                if (r.swapped() != matches) yield Optional.empty();
                yield Optional.of(matches ? c.next() : state);
            }
            default -> throw new IllegalArgumentException("output " + output + " does not match input " + input);
        };
    }

    @Override
    public Long stepUnknown(Long state, KvInput input) {
        return switch (input) {
            case Put p -> p.value();
            case Get g -> state;
            case Cas c -> state == c.expected() ? c.next() : state;
        };
    }

    /** Gets never change the value, nor does a CAS known to have failed (it only fails on a mismatch). */
    @Override
    public boolean isReadOnly(KvInput input, Optional<KvOutput> output) {
        return switch (input) {
            case Get g -> true;
            case Put p -> false;
            case Cas c -> output.isPresent() && output.get() instanceof CasResult r && !r.swapped();
        };
    }

    /**
     * One partition per key, in order of the key's first appearance, without the indeterminate
     * writes that cannot matter (see {@link #withoutIrrelevantUnknownWrites}); rejects mismatched
     * outputs.
     */
    @Override
    public List<List<Operation<KvInput, KvOutput>>> partition(List<Operation<KvInput, KvOutput>> history) {
        Map<String, List<Operation<KvInput, KvOutput>>> byKey = new LinkedHashMap<>();
        for (int i = 0; i < history.size(); i++) {
            Operation<KvInput, KvOutput> op = history.get(i);
            if (op.outcome() == Outcome.OK && !matches(op.input(), op.output())) {
                throw new IllegalArgumentException("operation #" + i + " " + op + ": output kind does not match input kind");
            }
            byKey.computeIfAbsent(op.input().key(), k -> new ArrayList<>()).add(op);
        }
        List<List<Operation<KvInput, KvOutput>>> parts = new ArrayList<>(byKey.size());
        for (List<Operation<KvInput, KvOutput>> part : byKey.values()) parts.add(withoutIrrelevantUnknownWrites(part));
        return List.copyOf(parts);
    }

    /**
     * Drops each indeterminate put or CAS (writing value v) that no operation of the key could
     * tell apart from one that never took effect: no OK get returned v, no successful OK CAS and no
     * other indeterminate CAS expected v, and no OK CAS failed at or after its invocation. Such
     * writes would otherwise stay candidates to the end of the search and multiply its work.
     *
     * <p>Why dropping is exact: take a linearization that applies the write. Until the next put
     * (of any outcome), every operation after it sees v, so by the conditions it can only be an
     * indeterminate get or an indeterminate CAS expecting something else, both of which leave v
     * in place. Removing the write and those indeterminate operations yields a legal
     * linearization of the same completed operations: the next put sets the same value whatever
     * preceded it, and if there is none, nothing after the write observed the state at all.
     */
    static List<Operation<KvInput, KvOutput>> withoutIrrelevantUnknownWrites(List<Operation<KvInput, KvOutput>> part) {
        Map<Long, Integer> expectedByUnknownCas = new java.util.HashMap<>();
        java.util.Set<Long> observed = new java.util.HashSet<>();
        long lastFailedCasReturn = Long.MIN_VALUE;
        boolean anyFailedCas = false;
        for (Operation<KvInput, KvOutput> op : part) {
            if (op.outcome() == Outcome.UNKNOWN) {
                if (op.input() instanceof Cas c) expectedByUnknownCas.merge(c.expected(), 1, Integer::sum);
                continue;
            }
            switch (op.input()) {
                case Get g -> observed.add(((GetResult) op.output()).value());
                case Cas c -> {
                    if (((CasResult) op.output()).swapped()) {
                        observed.add(c.expected());
                    } else {
                        anyFailedCas = true;
                        lastFailedCasReturn = Math.max(lastFailedCasReturn, op.returnNanos());
                    }
                }
                case Put p -> { }
            }
        }
        List<Operation<KvInput, KvOutput>> kept = new ArrayList<>(part.size());
        for (Operation<KvInput, KvOutput> op : part) {
            if (op.outcome() == Outcome.UNKNOWN && !(op.input() instanceof Get)) {
                long v = switch (op.input()) {
                    case Put p -> p.value();
                    case Cas c -> c.next();
                    case Get g -> throw new AssertionError("excluded above");
                };
                int ownExpectation = op.input() instanceof Cas c && c.expected() == v ? 1 : 0;
                boolean expectedByOtherUnknownCas = expectedByUnknownCas.getOrDefault(v, 0) > ownExpectation;
                boolean failedCasAfter = anyFailedCas && lastFailedCasReturn >= op.invokeNanos();
                if (!observed.contains(v) && !expectedByOtherUnknownCas && !failedCasAfter) continue;
            }
            kept.add(op);
        }
        return kept;
    }

    private static boolean matches(KvInput input, KvOutput output) {
        return switch (input) {
            case Put p -> output instanceof PutOk;
            case Get g -> output instanceof GetResult;
            case Cas c -> output instanceof CasResult;
        };
    }

    @Override
    public String describe(KvInput input, KvOutput output) {
        String result = switch (output) {
            case PutOk ok -> "ok";
            case GetResult r -> value(r.value());
            case CasResult r -> r.swapped() ? "swapped" : "not swapped";
        };
        return describeInput(input) + " -> " + result;
    }

    @Override
    public String describeInput(KvInput input) {
        return switch (input) {
            case Put p -> "put(" + p.key() + ", " + value(p.value()) + ")";
            case Get g -> "get(" + g.key() + ")";
            case Cas c -> "cas(" + c.key() + ", " + value(c.expected()) + " => " + value(c.next()) + ")";
        };
    }

    @Override
    public String describeState(Long state) {
        return value(state);
    }

    @Override
    public String describePartition(List<Operation<KvInput, KvOutput>> partition) {
        String key = partition.isEmpty() ? "?" : partition.get(0).input().key();
        return "key \"" + key + "\", " + partition.size() + " operations";
    }

    private static String value(long v) {
        return v == ABSENT ? "absent" : Long.toString(v);
    }
}
