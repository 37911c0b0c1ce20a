package io.synod.check;

import java.util.List;
import java.util.Optional;

/**
 * A sequential specification of the object under test: the checker asks it whether a recorded
 * output is a legal result of an input in a given state. States must be immutable values with
 * meaningful {@code equals}/{@code hashCode}, because the checker memoizes (linearized-set, state)
 * pairs to avoid re-exploring equivalent configurations.
 *
 * @param <S> the state type (an immutable value)
 * @param <I> the operation input type
 * @param <O> the operation output type
 */
public interface Model<S, I, O> {
    S initialState();

    /**
     * Returns the next state if {@code output} is a legal result of applying {@code input} in
     * {@code state}, else {@code Optional.empty()}. Called only for {@link Outcome#OK} operations.
     */
    Optional<S> step(S state, I input, O output);

    /**
     * For an indeterminate ({@link Outcome#UNKNOWN}) operation: the state after it took effect. The
     * checker separately considers the possibility that it never took effect.
     */
    S stepUnknown(S state, I input);

    /**
     * Splits a history into independent sub-histories (for example by key) that can be checked
     * separately; linearizability is compositional over independent objects, and checking small
     * partitions is exponentially cheaper than checking one big one. Every {@link Outcome#OK}
     * operation must appear in exactly one partition; an {@link Outcome#UNKNOWN} one may be left
     * out when the model can prove that whether and when it took effect cannot change the verdict
     * (it is then as if it never took effect), because such operations are what makes the search
     * expensive. Default: one partition. A model may also reject malformed operations here by
     * throwing {@link IllegalArgumentException}.
     */
    default List<List<Operation<I, O>>> partition(List<Operation<I, O>> history) {
        return List.of(history);
    }

    /**
     * Optional performance hint: whether the operation is read-only, meaning that in every state
     * where it is legal it leaves the state unchanged ({@code output} is empty for an {@link
     * Outcome#UNKNOWN} operation, which must then be read-only whatever it returned). The checker
     * linearizes a read-only candidate as soon as it can, without exploring alternatives: moving
     * it earlier, to a point where it is legal, cannot change any other operation's result. The
     * default, {@code false}, is always correct; answering {@code true} wrongly makes the checker
     * unsound.
     */
    default boolean isReadOnly(I input, Optional<O> output) {
        return false;
    }

    /** A readable rendering of a completed operation, used in explanations. */
    default String describe(I input, O output) {
        return input + " -> " + output;
    }

    /** A readable rendering of an operation whose output is unknown, used in explanations. */
    default String describeInput(I input) {
        return String.valueOf(input);
    }

    /** A readable rendering of a state, used in explanations. */
    default String describeState(S state) {
        return String.valueOf(state);
    }

    /** A short name for a partition produced by {@link #partition}, used in explanations. */
    default String describePartition(List<Operation<I, O>> partition) {
        return partition.size() + " operations";
    }
}
