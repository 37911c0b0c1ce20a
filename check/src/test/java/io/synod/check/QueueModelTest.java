package io.synod.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The checker is generic over models: a FIFO queue, whose state is a list and whose history
 * cannot be partitioned, exercises the default {@link Model#partition} and a non-trivial state.
 */
class QueueModelTest {
    sealed interface In permits Enq, Deq {}
    record Enq(int value) implements In {}
    record Deq() implements In {}

    sealed interface Out permits Done, Got {}
    record Done() implements Out {}
    /** {@code value} is -1 when the queue was empty. */
    record Got(int value) implements Out {}

    /** State: the queue's contents, front first, as an immutable list. */
    static final class Queue implements Model<List<Integer>, In, Out> {
        @Override
        public List<Integer> initialState() {
            return List.of();
        }

        @Override
        public Optional<List<Integer>> step(List<Integer> state, In input, Out output) {
            return switch (input) {
                case Enq e -> Optional.of(append(state, e.value()));
                case Deq d -> {
                    int expected = state.isEmpty() ? -1 : state.get(0);
                    yield output instanceof Got g && g.value() == expected
                            ? Optional.of(state.isEmpty() ? state : state.subList(1, state.size()).stream().toList())
                            : Optional.empty();
                }
            };
        }

        @Override
        public List<Integer> stepUnknown(List<Integer> state, In input) {
            return switch (input) {
                case Enq e -> append(state, e.value());
                case Deq d -> state.isEmpty() ? state : state.subList(1, state.size()).stream().toList();
            };
        }

        private static List<Integer> append(List<Integer> state, int v) {
            List<Integer> next = new ArrayList<>(state);
            next.add(v);
            return List.copyOf(next);
        }
    }

    private static CheckResult check(List<Operation<In, Out>> h) {
        return LinearizabilityChecker.check(new Queue(), h, 5_000);
    }

    @Test
    void concurrentEnqueuesMayBeDequeuedInEitherOrder() {
        List<Operation<In, Out>> h = List.of(
                Operation.ok(0, new Enq(1), new Done(), 0, 10),
                Operation.ok(1, new Enq(2), new Done(), 0, 10),
                Operation.ok(2, new Deq(), new Got(2), 20, 30),
                Operation.ok(2, new Deq(), new Got(1), 40, 50),
                Operation.ok(2, new Deq(), new Got(-1), 60, 70));
        assertThat(check(h).verdict()).isEqualTo(Verdict.LINEARIZABLE);
    }

    @Test
    void sequentialEnqueuesMustBeDequeuedInOrder() {
        List<Operation<In, Out>> h = List.of(
                Operation.ok(0, new Enq(1), new Done(), 0, 10),
                Operation.ok(0, new Enq(2), new Done(), 20, 30),
                Operation.ok(1, new Deq(), new Got(2), 40, 50));
        CheckResult r = check(h);
        assertThat(r.verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
        assertThat(r.explanation()).contains("partition 1 of 1 (3 operations)").contains("state [1, 2]");
    }

    @Test
    void indeterminateDequeueMayHaveRemovedAnElement() {
        List<Operation<In, Out>> h = List.of(
                Operation.ok(0, new Enq(1), new Done(), 0, 10),
                Operation.ok(0, new Enq(2), new Done(), 20, 30),
                Operation.unknown(1, new Deq(), 40),
                Operation.ok(2, new Deq(), new Got(2), 100, 110));
        assertThat(check(h).verdict()).isEqualTo(Verdict.LINEARIZABLE);
        // ...but not two elements.
        List<Operation<In, Out>> h2 = new ArrayList<>(h);
        h2.set(3, Operation.ok(2, new Deq(), new Got(-1), 100, 110));
        assertThat(check(h2).verdict()).isEqualTo(Verdict.NOT_LINEARIZABLE);
    }
}
