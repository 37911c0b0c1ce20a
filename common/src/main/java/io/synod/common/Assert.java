package io.synod.common;

/**
 * Always-on invariant checks. Unlike the {@code assert} keyword these run in production: a
 * violated invariant in a replicated system must stop the process loudly, naming the values,
 * rather than let it continue and corrupt state that other members will then trust.
 */
public final class Assert {
    private Assert() {}

    /** Thrown when an internal invariant does not hold; never a user error. */
    public static final class InvariantViolation extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public InvariantViolation(String message) {
            super(message);
        }
    }

    public static void that(boolean condition, String message) {
        if (!condition) throw new InvariantViolation(message);
    }

    public static void that(boolean condition, String format, long a) {
        if (!condition) throw new InvariantViolation(String.format(format, a));
    }

    public static void that(boolean condition, String format, long a, long b) {
        if (!condition) throw new InvariantViolation(String.format(format, a, b));
    }

    public static void that(boolean condition, String format, long a, long b, long c) {
        if (!condition) throw new InvariantViolation(String.format(format, a, b, c));
    }

    public static void that(boolean condition, String format, Object... args) {
        if (!condition) throw new InvariantViolation(String.format(format, args));
    }

    /** Marks a branch the code believes unreachable. */
    public static InvariantViolation unreachable(String format, Object... args) {
        return new InvariantViolation("unreachable: " + String.format(format, args));
    }
}
