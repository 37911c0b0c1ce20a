package io.synod.check;

import java.util.Objects;

/**
 * One client operation in a recorded history: what was asked ({@code input}), what came back
 * ({@code output}), and the real-time interval in which it was outstanding. The checker looks for
 * a single point inside each interval at which the operation could have taken effect atomically.
 *
 * <p>For {@link Outcome#UNKNOWN} operations the output and {@code returnNanos} are ignored (the
 * operation's interval is treated as open-ended), and {@code output} may be {@code null} because a
 * generic output type has no natural "no answer" value. For {@link Outcome#OK} operations the
 * output must be non-null and {@code invokeNanos <= returnNanos}; the checker validates this.
 *
 * <p>Operations whose intervals touch (one returns at the same nanosecond another is invoked) are
 * treated as concurrent: a recorder that wants a real-time order between them must give them
 * distinct timestamps.
 */
public record Operation<I, O>(
        int clientId, I input, O output, long invokeNanos, long returnNanos, Outcome outcome) {
    public Operation {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(outcome, "outcome");
    }

    /** A completed operation. */
    public static <I, O> Operation<I, O> ok(int clientId, I input, O output, long invokeNanos, long returnNanos) {
        return new Operation<>(clientId, input, Objects.requireNonNull(output, "output"), invokeNanos, returnNanos, Outcome.OK);
    }

    /**
     * An operation whose effect is indeterminate. The return time is recorded as {@link
     * Long#MAX_VALUE} only so the record has a value there; the checker ignores it.
     */
    public static <I, O> Operation<I, O> unknown(int clientId, I input, long invokeNanos) {
        return new Operation<>(clientId, input, null, invokeNanos, Long.MAX_VALUE, Outcome.UNKNOWN);
    }
}
