/**
 * Linearizability checking for recorded client histories: the oracle the deterministic simulator
 * uses to decide whether a run of the replicated store behaved like a single atomic object.
 *
 * <p>Record each client operation as an {@link io.synod.check.Operation} (an operation whose
 * client timed out is {@link io.synod.check.Outcome#UNKNOWN}), describe the object with a {@link
 * io.synod.check.Model} (for the key-value API, {@link io.synod.check.kv.KvModel}), and call
 * {@link io.synod.check.LinearizabilityChecker#check}:
 *
 * <pre>{@code
 * CheckResult r = LinearizabilityChecker.check(new KvModel(), history, 10_000);
 * if (r.verdict() != Verdict.LINEARIZABLE) fail(r.explanation()); // UNKNOWN is not a pass
 * }</pre>
 *
 * <p>Timestamps only need to be consistent with real time within one history (simulated nanos are
 * fine). Intervals that touch (a return and an invocation at the same instant) count as
 * concurrent, so give causally ordered events distinct timestamps.
 */
package io.synod.check;
