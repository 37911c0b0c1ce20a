package io.synod.check;

import io.synod.common.Assert;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The Wing–Gong search with Lowe's memoization over one partition of a history. Kept separate from
 * {@link LinearizabilityChecker} so the hot loop sees only flat arrays.
 *
 * <p>The history becomes a doubly-linked list of call and return events in real-time order. The
 * search repeatedly picks a call that appears before the first remaining return (so that operation
 * was outstanding at that moment and may take effect now), applies it to the model, and removes
 * its call and return from the list. When no candidate works, the operation owning the first
 * return cannot take effect before it returned, so the last choice is undone (explicit stack, no
 * recursion) and the next candidate after it is tried. Every (linearized set, state) configuration reached is
 * remembered ({@link ConfigCache}); reaching one again cannot lead anywhere new, so it is skipped.
 *
 * <p>The candidates at a configuration are tried in order of the midpoint of their intervals
 * rather than of invocation. Any order is complete; this one only guesses the true order better
 * (the linearization point lies somewhere in the interval), so correct histories, which should be
 * fast, need less backtracking. Ties keep invocation order, so the search stays deterministic.
 *
 * <p>Indeterminate operations get a return event at +infinity, after every real event. The search
 * accepts as soon as every OK operation is linearized: the remaining indeterminate ones are
 * deemed never to have taken effect. That is sound and complete because "took effect at time t"
 * choices are explored by linearizing them when they are candidates, and "never" is always
 * available for whatever is left at the end. Since every OK return precedes every +infinity
 * return, the search never reaches an indeterminate op's return while OK work remains.
 *
 * <p>Indeterminate operations are what make such searches blow up (they stay candidates forever,
 * so every configuration can be reached with any subset of them applied). Two exact rules keep
 * that in check: an indeterminate op is never applied where it would leave the state unchanged
 * (the completion without it is explored anyway), and {@link ConfigCache} prunes configurations
 * that only add indeterminate ops to one already explored with the same state.
 */
final class PartitionSearch<S, I, O> {

    enum Result { LINEARIZABLE, NOT_LINEARIZABLE, TIMED_OUT, TOO_LARGE }

    /**
     * Memo size at which the search gives up. Without a bound, a hard history given a generous
     * time budget fills the heap and kills the caller with OutOfMemoryError instead of returning
     * UNKNOWN.
     */
    static final long DEFAULT_MAX_CACHE_BYTES = 512L << 20;

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
    /** For each op: whether the model declares it read-only (see {@link Model#isReadOnly}). */
    private final boolean[] readOnly;
    /** For each op: whether it completed (OK) rather than being indeterminate. */
    private final boolean[] ok;
    /** For each op: the order in which candidates are tried (interval midpoint; +inf if indeterminate). */
    private final long[] priority;
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
        this.readOnly = new boolean[n];
        this.ok = new boolean[n];
        this.priority = new long[n];
        for (int i = 0; i < n; i++) {
            Operation<I, O> op = ops.get(i);
            // Halve before adding so the midpoint of any two longs cannot overflow.
            priority[i] = op.outcome() == Outcome.OK ? (op.invokeNanos() >> 1) + (op.returnNanos() >> 1) : Long.MAX_VALUE;
            ok[i] = op.outcome() == Outcome.OK;
            readOnly[i] = model.isReadOnly(op.input(),
                    op.outcome() == Outcome.OK ? Optional.of(op.output()) : Optional.empty());
        }
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

    private Optional<S> apply(S state, int op) {
        Operation<I, O> o = ops.get(op);
        if (o.outcome() == Outcome.OK) return model.step(state, o.input(), o.output());
        return Optional.of(model.stepUnknown(state, o.input()));
    }

    // Search state, kept in fields so push/backtrack can be small methods.
    private OpSet linearized;
    private ConfigCache cache;
    /** Per stack frame: the candidate list of that configuration and which one was chosen. */
    private int[][] stackCands;
    private int[] stackCursor;
    /** The current configuration's candidates (call positions, in trying order) and the next to try. */
    private int[] cands;
    private int cursor;
    private Object[] stackState;
    /** Whether the stacked choice was a forced read-only step, which has no alternatives to try. */
    private boolean[] stackForced;
    /** The cache entry of the configuration each stacked choice led to, to mark it explored on backtrack. */
    private int[] stackCacheId;
    private int depth;
    private S state;
    private int okRemaining;
    private int bestLen;
    /**
     * The stack may have been rewritten below this index since {@code best} was last copied from
     * it, so a new best only needs the suffix from here: amortized O(1) per push when the search
     * rarely backtracks, instead of O(depth).
     */
    private int dirtyFrom;
    private long visited;

    /**
     * Runs the search until a verdict, until {@code System.nanoTime()} passes {@code deadline}, or
     * until the memo holds about {@code maxCacheBytes}.
     *
     * <p>Besides plain Wing–Gong, one pruning rule does most of the work on realistic histories:
     * if a candidate is read-only (per {@link Model#isReadOnly}) and legal in the current state, it
     * is linearized at once and, should that fail, no sibling choice is tried. This is exact, not a
     * heuristic: given any linearization of the remaining operations, the read-only candidate can
     * be moved to the front (it was outstanding since before any remaining operation returned, it
     * is legal now, and where it was it left the state unchanged, so removing it there changes
     * nothing), so the configuration has a completion iff the one with the read linearized does.
     * Without it, concurrent reads multiply the orders the search tries among concurrent writes.
     */
    Result run(long deadlineNanos, long maxCacheBytes) {
        okRemaining = 0;
        for (Operation<I, O> op : ops) if (op.outcome() == Outcome.OK) okRemaining++;
        boolean[] indeterminate = new boolean[n];
        for (int i = 0; i < n; i++) indeterminate[i] = ops.get(i).outcome() == Outcome.UNKNOWN;
        linearized = new OpSet(n, indeterminate);
        cache = new ConfigCache();
        stackCands = new int[n][];
        stackCursor = new int[n];
        stackState = new Object[n];
        stackForced = new boolean[n];
        stackCacheId = new int[n];
        depth = 0;
        dirtyFrom = 0;
        bestLen = 0;
        best = new int[n];
        state = model.initialState();

        Result result = search(deadlineNanos, maxCacheBytes);
        best = Arrays.copyOf(best, bestLen);
        visited = cache.size();
        cache = null; // the search object outlives the verdict (explanations); the cache need not
        return result;
    }

    private Result search(long deadlineNanos, long maxCacheBytes) {
        long iterations = 0;
        // True when the search has just arrived at a configuration and has not yet listed its
        // candidates nor looked for a forced read-only step there.
        boolean fresh = true;
        while (okRemaining > 0) {
            if ((++iterations & CLOCK_CHECK_MASK) == 0) {
                if (System.nanoTime() - deadlineNanos > 0) return Result.TIMED_OUT;
                if (cache.approximateBytes() > maxCacheBytes) return Result.TOO_LARGE;
            }
            if (fresh) {
                fresh = false;
                cands = candidates();
                cursor = 0;
                int forced = legalReadOnlyCandidate();
                if (forced >= 0) {
                    int op = eventOp[cands[forced]];
                    linearized.set(op);
                    int id = cache.add(linearized, state);
                    if (id >= 0) {
                        cursor = forced;
                        push(state, true, id);
                        fresh = true;
                        continue;
                    }
                    linearized.clear(op);
                    // That configuration was explored before and failed (a success would have
                    // ended the search), so by the rule above this one fails too.
                    if (!backtrack()) return Result.NOT_LINEARIZABLE;
                    continue;
                }
            }
            if (cursor < cands.length) {
                int op = eventOp[cands[cursor]];
                // Read-only candidates: the OK ones were all found illegal here by
                // legalReadOnlyCandidate; indeterminate ones never need to take effect at all.
                if (!readOnly[op]) {
                    Optional<S> after = apply(state, op);
                    // An indeterminate op that would leave the state as it is gains nothing by
                    // taking effect now: every completion after it is one without it from here.
                    if (after.isPresent() && (ok[op] || !after.get().equals(state))) {
                        linearized.set(op);
                        int id = cache.add(linearized, after.get());
                        if (id >= 0) {
                            push(after.get(), false, id);
                            fresh = true;
                            continue;
                        }
                        linearized.clear(op);
                    }
                }
                cursor++;
            } else {
                // Every candidate failed: the op owning the first return cannot be linearized in time.
                if (!backtrack()) return Result.NOT_LINEARIZABLE;
            }
        }
        return Result.LINEARIZABLE;
    }

    /** The calls that may be linearized next (those before the first remaining return), in trying order. */
    private int[] candidates() {
        int count = 0;
        for (int e = next[HEAD]; isCall[e]; e = next[e]) count++;
        Assert.that(count > 0 || okRemaining == 0, "no candidates with %d OK ops unlinearized", okRemaining);
        int[] c = new int[count];
        int k = 0;
        for (int e = next[HEAD]; isCall[e]; e = next[e]) {
            // Insertion sort (stable) by priority; candidate lists are as short as the concurrency.
            long r = priority[eventOp[e]];
            int j = k++;
            while (j > 0 && priority[eventOp[c[j - 1]]] > r) {
                c[j] = c[j - 1];
                j--;
            }
            c[j] = e;
        }
        return c;
    }

    /** Index in {@code cands} of the first read-only candidate legal in the current state, or -1. */
    private int legalReadOnlyCandidate() {
        for (int i = 0; i < cands.length; i++) {
            int op = eventOp[cands[i]];
            if (readOnly[op] && ok[op] && apply(state, op).isPresent()) return i;
        }
        return -1;
    }

    private void push(S after, boolean forced, int cacheId) {
        int call = cands[cursor];
        int op = eventOp[call];
        stackCands[depth] = cands;
        stackCursor[depth] = cursor;
        stackState[depth] = state;
        stackForced[depth] = forced;
        stackCacheId[depth] = cacheId;
        depth++;
        state = after;
        if (ops.get(op).outcome() == Outcome.OK) okRemaining--;
        lift(call);
        if (depth > bestLen) {
            for (int d = dirtyFrom; d < depth; d++) best[d] = eventOp[stackCands[d][stackCursor[d]]];
            bestLen = depth;
            dirtyFrom = depth;
        }
    }

    /**
     * Undoes choices until one that has untried alternatives is undone, leaving {@code cursor} at
     * the next candidate to try; returns false if the stack ran out, i.e. no linearization exists.
     */
    private boolean backtrack() {
        while (depth > 0) {
            depth--;
            dirtyFrom = Math.min(dirtyFrom, depth);
            cands = stackCands[depth];
            cursor = stackCursor[depth];
            stackCands[depth] = null;
            int call = cands[cursor];
            int op = eventOp[call];
            @SuppressWarnings("unchecked")
            S previous = (S) stackState[depth];
            state = previous;
            stackState[depth] = null; // let the state be collected
            linearized.clear(op);
            cache.leftPath(stackCacheId[depth]);
            if (ops.get(op).outcome() == Outcome.OK) okRemaining++;
            unlift(call);
            cursor++;
            if (!stackForced[depth]) return true;
        }
        return false;
    }

    /** After {@link #run}: how many configurations the search visited. */
    long visited() {
        return visited;
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
