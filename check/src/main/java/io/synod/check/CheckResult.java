package io.synod.check;

import java.util.Objects;

/**
 * The outcome of {@link LinearizabilityChecker#check}: a verdict plus a human-readable explanation.
 * For {@link Verdict#NOT_LINEARIZABLE} the explanation names the failing partition, the longest
 * linearizable prefix the search found and the operations that could not follow it; for {@link
 * Verdict#UNKNOWN} it names the partition(s) whose search ran out of time or memory.
 */
public record CheckResult(Verdict verdict, String explanation) {
    public CheckResult {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(explanation, "explanation");
    }

    /** Convenience for tests and callers that only care about a pass. */
    public boolean isLinearizable() {
        return verdict == Verdict.LINEARIZABLE;
    }
}
