package io.synod.chaos.checkers;

import io.synod.check.CheckResult;
import io.synod.check.LinearizabilityChecker;
import io.synod.check.Operation;
import io.synod.check.Verdict;
import io.synod.check.kv.KvInput;
import io.synod.check.kv.KvModel;
import io.synod.check.kv.KvOutput;
import java.util.List;
import java.util.Optional;

/**
 * Checks a register history (puts, linearizable gets and compare-and-sets on a few keys, with
 * indeterminate outcomes for calls that failed or timed out) for linearizability with the
 * project's checker ({@link LinearizabilityChecker} and {@link KvModel}, the same oracle the
 * simulator uses). A search that runs out of budget is reported as undecided, never as a pass.
 */
public final class RegisterChecker {
    private RegisterChecker() {}

    /** The checker's own result, for the report. */
    public static CheckResult check(List<Operation<KvInput, KvOutput>> history, long budgetMillis) {
        return LinearizabilityChecker.check(new KvModel(), history, budgetMillis);
    }

    /** The violation in {@code result}, if it proves one; the checker's explanation is the failing window. */
    public static Optional<Violation> violation(CheckResult result) {
        if (result.verdict() != Verdict.NOT_LINEARIZABLE) return Optional.empty();
        String first = result.explanation().lines().findFirst().orElse("not linearizable");
        return Optional.of(new Violation("register", "not-linearizable", first, result.explanation()));
    }
}
