package io.synod.check;

/**
 * How a recorded client operation ended. The distinction matters because a client that timed out
 * cannot know whether its request was applied: the checker must then allow the operation to take
 * effect at any point after its invocation, or not at all.
 */
public enum Outcome {
    /** The operation completed and its output is meaningful. */
    OK,
    /**
     * The operation timed out or its result is otherwise indeterminate: it may have taken effect at
     * any time after invocation, or never. Its output and return time are ignored.
     */
    UNKNOWN
}
