package io.synod.check;

/**
 * The answer of a linearizability check. {@link #UNKNOWN} exists because the search is
 * exponential in the worst case; a check that ran out of time must never be mistaken for a pass.
 */
public enum Verdict {
    /** Every partition has a linearization of all its completed operations. */
    LINEARIZABLE,
    /** Some partition provably has no linearization. */
    NOT_LINEARIZABLE,
    /**
     * The time budget (or the search's memory bound) was exceeded before a verdict was reached;
     * never to be treated as a pass.
     */
    UNKNOWN
}
