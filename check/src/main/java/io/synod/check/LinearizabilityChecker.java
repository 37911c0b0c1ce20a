package io.synod.check;

import io.synod.common.Assert;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Decides whether a recorded concurrent history is linearizable with respect to a sequential
 * {@link Model}: whether each operation can be given a single instant inside its real-time
 * interval such that the operations, applied in that order, produce exactly the recorded outputs.
 * This is the oracle the deterministic simulator uses to judge a run of the replicated store.
 *
 * <p>The model's {@link Model#partition} splits the history into independent parts which are
 * searched one after another (Wing–Gong with Lowe's memoization, see {@code PartitionSearch}). The
 * search is exponential in the worst case, so it is bounded by a wall-clock budget (and, so a hard
 * history cannot exhaust the heap, by a memory bound of about 512 MiB per partition); running out
 * of either yields {@link Verdict#UNKNOWN}, never a pass. Apart from timeouts the result, including the
 * explanation, is a deterministic function of the input.
 */
public final class LinearizabilityChecker {
    /** How many prefix operations an explanation lists before eliding older ones. */
    private static final int MAX_PREFIX_LINES = 40;

    private LinearizabilityChecker() {}

    /**
     * Checks {@code history} against {@code model} within roughly {@code timeoutMillis} of wall
     * time.
     *
     * @throws IllegalArgumentException if an operation is malformed (null, or an OK operation
     *     without output or returning before it was invoked), naming the operation
     */
    public static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history, long timeoutMillis) {
        return check(model, history, timeoutMillis, PartitionSearch.DEFAULT_MAX_CACHE_BYTES);
    }

    /** As {@link #check(Model, List, long)} with an explicit memory bound on each partition's memo (for tests). */
    static <S, I, O> CheckResult check(Model<S, I, O> model, List<Operation<I, O>> history, long timeoutMillis,
            long maxCacheBytes) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(history, "history");
        if (timeoutMillis <= 0) throw new IllegalArgumentException("timeoutMillis must be positive, got " + timeoutMillis);
        long start = System.nanoTime();
        long budget = timeoutMillis >= TimeUnit.NANOSECONDS.toMillis(Long.MAX_VALUE / 2)
                ? Long.MAX_VALUE / 2 : TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long deadline = start + budget;

        validate(history);
        // Identity, not equality: two identical records are still two operations.
        Map<Operation<I, O>, Integer> indexInHistory = new IdentityHashMap<>();
        for (int i = 0; i < history.size(); i++) indexInHistory.putIfAbsent(history.get(i), i);

        List<List<Operation<I, O>>> partitions = model.partition(history);
        checkPartitions(history, partitions, indexInHistory);

        List<String> timedOut = new ArrayList<>();
        for (int pi = 0; pi < partitions.size(); pi++) {
            List<Operation<I, O>> part = partitions.get(pi);
            PartitionSearch<S, I, O> search = new PartitionSearch<>(model, part);
            // Keep going after a timeout: a later partition may still prove a violation, which is
            // more useful than "unknown". Past the deadline each search stops at its first clock check.
            switch (search.run(deadline, maxCacheBytes)) {
                case LINEARIZABLE -> { }
                case TIMED_OUT -> timedOut.add(partitionName(model, part, pi, partitions.size())
                        + ": time budget of " + timeoutMillis + " ms exceeded (longest linearizable prefix found: "
                        + search.longestPrefix().length + " of " + part.size() + " operations)");
                case TOO_LARGE -> timedOut.add(partitionName(model, part, pi, partitions.size())
                        + ": gave up after memoizing " + search.visited() + " configurations (about "
                        + (maxCacheBytes >> 20) + " MiB; longest linearizable prefix found: "
                        + search.longestPrefix().length + " of " + part.size() + " operations)");
                case NOT_LINEARIZABLE -> {
                    return new CheckResult(Verdict.NOT_LINEARIZABLE,
                            explainViolation(model, part, pi, partitions.size(), search, indexInHistory));
                }
            }
        }
        if (!timedOut.isEmpty()) {
            return new CheckResult(Verdict.UNKNOWN, "Could not decide linearizability:\n  " + String.join("\n  ", timedOut));
        }
        return new CheckResult(Verdict.LINEARIZABLE,
                "Linearizable: " + history.size() + " operations in " + partitions.size() + " partition(s)");
    }

    private static <I, O> void validate(List<Operation<I, O>> history) {
        for (int i = 0; i < history.size(); i++) {
            Operation<I, O> op = history.get(i);
            if (op == null) throw new IllegalArgumentException("operation #" + i + " is null");
            if (op.outcome() == Outcome.OK) {
                if (op.output() == null) {
                    throw new IllegalArgumentException("operation #" + i + " " + op + " is OK but has no output");
                }
                if (op.invokeNanos() > op.returnNanos()) {
                    throw new IllegalArgumentException("operation #" + i + " " + op + " returns (" + op.returnNanos()
                            + ") before it is invoked (" + op.invokeNanos() + ")");
                }
            }
        }
    }

    /**
     * A wrong partition function would make the checker silently skip operations, so hold the
     * model to its contract: partitions hold operations of this history, each at most once, and
     * every OK operation somewhere.
     */
    private static <I, O> void checkPartitions(List<Operation<I, O>> history, List<List<Operation<I, O>>> partitions,
            Map<Operation<I, O>, Integer> indexInHistory) {
        boolean[] seen = new boolean[history.size()];
        for (List<Operation<I, O>> part : partitions) {
            for (Operation<I, O> op : part) {
                Integer index = indexInHistory.get(op);
                Assert.that(index != null, "model partition contains an operation not in the history: %s", op);
                // Identical records share an index; count them through the next unseen duplicate.
                int i = index;
                while (seen[i]) {
                    i = nextIdentical(history, op, i);
                    Assert.that(i >= 0, "model partition lists an operation twice: %s", op);
                }
                seen[i] = true;
            }
        }
        for (int i = 0; i < history.size(); i++) {
            Assert.that(seen[i] || history.get(i).outcome() == Outcome.UNKNOWN,
                    "model partition omits OK operation #%d %s", i, history.get(i));
        }
    }

    private static <I, O> int nextIdentical(List<Operation<I, O>> history, Operation<I, O> op, int after) {
        for (int j = after + 1; j < history.size(); j++) if (history.get(j) == op) return j;
        return -1;
    }

    private static <S, I, O> String partitionName(Model<S, I, O> model, List<Operation<I, O>> part, int index, int count) {
        return "partition " + (index + 1) + " of " + count + " (" + model.describePartition(part) + ")";
    }

    /**
     * Explains a failed partition from the longest prefix the search managed to linearize: the
     * prefix itself with the state it leads to, the operation whose return forced the search to
     * give up (the earliest-returning OK operation not in the prefix), and for every operation that
     * could have come next whether the model rejected it outright or every continuation failed.
     */
    private static <S, I, O> String explainViolation(Model<S, I, O> model, List<Operation<I, O>> part, int pi, int count,
            PartitionSearch<S, I, O> search, Map<Operation<I, O>, Integer> indexInHistory) {
        StringBuilder sb = new StringBuilder();
        sb.append("Not linearizable: ").append(partitionName(model, part, pi, count)).append('\n');
        int[] prefix = search.longestPrefix();
        boolean[] inPrefix = new boolean[part.size()];
        sb.append("Longest linearizable prefix found: ").append(prefix.length).append(" of ").append(part.size())
                .append(" operations, in linearization order").append(prefix.length == 0 ? " (empty)" : ":").append('\n');
        S state = model.initialState();
        for (int k = 0; k < prefix.length; k++) {
            int op = prefix[k];
            inPrefix[op] = true;
            Optional<S> after = search.tryApply(state, op);
            Assert.that(after.isPresent(), "recorded prefix step %d is not legal on replay", k);
            state = after.get();
            if (k >= prefix.length - MAX_PREFIX_LINES) {
                if (k == prefix.length - MAX_PREFIX_LINES && k > 0) {
                    sb.append("    ... ").append(k).append(" earlier operations elided\n");
                }
                sb.append("  ").append(k + 1).append(". ").append(describeOp(model, part.get(op), indexInHistory))
                        .append("   => state ").append(model.describeState(state)).append('\n');
            }
        }
        sb.append("State after the prefix: ").append(model.describeState(state)).append('\n');

        // The earliest remaining OK return is the deadline every remaining candidate had to beat.
        int blocking = -1;
        for (int op = 0; op < part.size(); op++) {
            if (inPrefix[op] || part.get(op).outcome() != Outcome.OK) continue;
            if (blocking < 0 || search.returnPos[op] < search.returnPos[blocking]) blocking = op;
        }
        Assert.that(blocking >= 0, "a failed partition must have an unlinearized OK operation");
        sb.append("No remaining operation can follow this prefix. The first of them to return, which had to take effect by then:\n  ")
                .append(describeOp(model, part.get(blocking), indexInHistory)).append('\n');
        sb.append("Operations that could have taken effect next (invoked before it returned):\n");
        for (int op = 0; op < part.size(); op++) {
            if (inPrefix[op] || search.callPos[op] >= search.returnPos[blocking]) continue;
            String why = search.tryApply(state, op).isPresent()
                    ? "legal here, but no linearization of the rest follows from it"
                    : "not a legal result in state " + model.describeState(state);
            sb.append("  ").append(describeOp(model, part.get(op), indexInHistory)).append("  -- ").append(why).append('\n');
        }
        return sb.toString();
    }

    private static <S, I, O> String describeOp(Model<S, I, O> model, Operation<I, O> op, Map<Operation<I, O>, Integer> indexInHistory) {
        Integer index = indexInHistory.get(op);
        String id = index == null ? "" : "#" + index + " ";
        if (op.outcome() == Outcome.OK) {
            return id + "client " + op.clientId() + " [" + op.invokeNanos() + ", " + op.returnNanos() + "] "
                    + model.describe(op.input(), op.output());
        }
        return id + "client " + op.clientId() + " [" + op.invokeNanos() + ", inf) " + model.describeInput(op.input())
                + " -> ? (outcome unknown)";
    }
}
