package io.synod.check;

import io.synod.common.Assert;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * The Wing–Gong search with Lowe's memoization over one partition of a history. Kept separate from
 * {@link LinearizabilityChecker} so the hot loop sees only flat arrays.
 *
 * <p>The history becomes a doubly-linked list of call and return events in real-time order. The
 * search repeatedly picks a call that appears before the first remaining return (so that operation
 * was outstanding at that moment and may take effect now), applies it to the model, and removes
 * its call and return from the list. Reaching a return event means the operation owning it should
 * already have taken effect, so the last choice is undone (explicit stack, no recursion) and the
 * next candidate after it is tried. Every (linearized set, state) configuration reached is
 * remembered; reaching one again cannot lead anywhere new, so it is skipped.
 *
 * <p>Indeterminate operations get a return event at +infinity, after every real event. The search
 * accepts as soon as every OK operation is linearized: the remaining indeterminate ones are
 * deemed never to have taken effect. That is sound and complete because "took effect at time t"
 * choices are explored by linearizing them when they are candidates, and "never" is always
 * available for whatever is left at the end. Since every OK return precedes every +infinity
 * return, the search never reaches an indeterminate op's return while OK work remains.
 */
final class PartitionSearch<S, I, O> {

    enum Result { LINEARIZABLE, NOT_LINEARIZABLE, TIMED_OUT }

    /** How many loop iterations between clock reads; a power of two minus one, used as a mask. */
    private static final int CLOCK_CHECK_MASK = 1023;

    private static final int HEAD = 0;

    private final Model<S, I, O> model;
    private final List<Operation<I, O>> ops;
    private final int n;
    private final int tail;

    // Event list, indexed by event position in real-time order; 0 is the head sentinel, tail is 2n+1.
    private final int[] next;
    private final int[] prev;
    private final int[] eventOp;
    private final boolean[] isCall;
    /** For a call event: the position of its matching return event. */
    private final int[] returnOf;
    /** For each op: position of its call and return event (used to build explanations). */
    final int[] callPos;
    final int[] returnPos;

    /** The operations of the longest linearizable prefix found, in linearization order. */
    private int[] best = new int[0];

    PartitionSearch(Model<S, I, O> model, List<Operation<I, O>> ops) {
        this.model = model;
        this.ops = ops;
        this.n = ops.size();
        this.tail = 2 * n + 1;
        this.next = new int[2 * n + 2];
        this.prev = new int[2 * n + 2];
        this.eventOp = new int[2 * n + 2];
        this.isCall = new boolean[2 * n + 2];
        this.returnOf = new int[2 * n + 2];
        this.callPos = new int[n];
        this.returnPos = new int[n];
        buildEvents();
    }

    /**
     * Sorts the 2n events by time. At equal times calls come before returns, so operations whose
     * intervals merely touch are treated as concurrent: that can only make the checker more
     * permissive, never report a violation that did not happen. Remaining ties break on operation
     * index so the order, and hence the explanation, is deterministic.
     */
    private void buildEvents() {
        // Encode each event as (time, kind, op) and sort; kind 0 = call, 1 = return.
        record Event(long time, int kind, int op) {}
        List<Event> events = new ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) {
            Operation<I, O> op = ops.get(i);
            events.add(new Event(op.invokeNanos(), 0, i));
        }
        List<Event> unknownReturns = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Operation<I, O> op = ops.get(i);
            if (op.outcome() == Outcome.OK) {
                events.add(new Event(op.returnNanos(), 1, i));
            } else {
                unknownReturns.add(new Event(Long.MAX_VALUE, 1, i));
            }
        }
        events.sort((a, b) -> {
            int c = Long.compare(a.time, b.time);
            if (c != 0) return c;
            c = Integer.compare(a.kind, b.kind);
            if (c != 0) return c;
            return Integer.compare(a.op, b.op);
        });
        // +infinity returns go strictly after every real event, even one at Long.MAX_VALUE.
        events.addAll(unknownReturns);

        for (int pos = 1; pos <= 2 * n; pos++) {
            Event e = events.get(pos - 1);
            eventOp[pos] = e.op;
            isCall[pos] = e.kind == 0;
            if (isCall[pos]) callPos[e.op] = pos;
            else returnPos[e.op] = pos;
        }
        for (int i = 0; i < n; i++) returnOf[callPos[i]] = returnPos[i];
        for (int pos = 0; pos <= tail; pos++) {
            next[pos] = pos + 1;
            prev[pos] = pos - 1;
        }
    }

    /** Removes an operation's call and return events from the list (dancing-links style). */
    private void lift(int call) {
        unlink(call);
        unlink(returnOf[call]);
    }

    /** Exact inverse of {@link #lift}: removed nodes kept their pointers, restore in reverse order. */
    private void unlift(int call) {
        relink(returnOf[call]);
        relink(call);
    }

    private void unlink(int pos) {
        next[prev[pos]] = next[pos];
        prev[next[pos]] = prev[pos];
    }

    private void relink(int pos) {
        next[prev[pos]] = pos;
        prev[next[pos]] = pos;
    }

    /** A memoized search configuration. */
    private record Config(OpSet linearized, Object state) {}

    private Optional<S> apply(S state, int op) {
        Operation<I, O> o = ops.get(op);
        if (o.outcome() == Outcome.OK) return model.step(state, o.input(), o.output());
        return Optional.of(model.stepUnknown(state, o.input()));
    }

    /** Runs the search until a verdict or until {@code System.nanoTime()} passes {@code deadline}. */
    Result run(long deadlineNanos) {
        int okRemaining = 0;
        for (Operation<I, O> op : ops) if (op.outcome() == Outcome.OK) okRemaining++;

        OpSet linearized = new OpSet(n);
        HashSet<Config> cache = new HashSet<>();
        int[] stackCall = new int[n];
        Object[] stackState = new Object[n];
        int depth = 0;
        // The stack may have been rewritten below this index since `best` was last copied from it,
        // so a new best only needs the suffix from here: amortized O(1) per push on easy histories.
        int dirtyFrom = 0;
        int bestLen = 0;
        best = new int[n];

        S state = model.initialState();
        int entry = next[HEAD];
        long iterations = 0;

        while (okRemaining > 0) {
            if ((++iterations & CLOCK_CHECK_MASK) == 0 && System.nanoTime() - deadlineNanos > 0) {
                best = Arrays.copyOf(best, bestLen);
                return Result.TIMED_OUT;
            }
            Assert.that(entry != tail, "search ran off the event list with %d OK ops unlinearized", okRemaining);
            if (isCall[entry]) {
                int op = eventOp[entry];
                Optional<S> after = apply(state, op);
                if (after.isPresent()) {
                    linearized.set(op);
                    if (cache.add(new Config(linearized.snapshot(), after.get()))) {
                        stackCall[depth] = entry;
                        stackState[depth] = state;
                        depth++;
                        state = after.get();
                        if (ops.get(op).outcome() == Outcome.OK) okRemaining--;
                        lift(entry);
                        if (depth > bestLen) {
                            for (int d = dirtyFrom; d < depth; d++) best[d] = eventOp[stackCall[d]];
                            bestLen = depth;
                            dirtyFrom = depth;
                        }
                        entry = next[HEAD];
                        continue;
                    }
                    linearized.clear(op);
                }
                entry = next[entry];
            } else {
                // The op owning this return was not linearized before it returned: undo the last choice.
                if (depth == 0) {
                    best = Arrays.copyOf(best, bestLen);
                    return Result.NOT_LINEARIZABLE;
                }
                depth--;
                dirtyFrom = Math.min(dirtyFrom, depth);
                int call = stackCall[depth];
                int op = eventOp[call];
                @SuppressWarnings("unchecked")
                S previous = (S) stackState[depth];
                state = previous;
                stackState[depth] = null; // let the state be collected
                linearized.clear(op);
                if (ops.get(op).outcome() == Outcome.OK) okRemaining++;
                unlift(call);
                entry = next[call];
            }
        }
        best = Arrays.copyOf(best, bestLen);
        return Result.LINEARIZABLE;
    }

    /** After {@link #run}: the longest linearizable prefix found, as op indices in order. */
    int[] longestPrefix() {
        return best.clone();
    }

    /** Exposed for explanations: applies op to state under the model. */
    Optional<S> tryApply(S state, int op) {
        return apply(state, op);
    }
}
