package io.synod.bench.load;

import java.io.PrintStream;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A workload prepared for one run: what it set up before measuring (leases, watchers, stubs per
 * connection) and how one client issues its next operation. The generator drives
 * {@link #clients} closed-loop clients through {@link #issue}; a session whose figure is not the
 * completion of those operations (watch fan-out counts delivered events) supplies its own
 * {@link Tally}. Closing it releases what it created on the server side where that would
 * disturb later runs (leases are revoked).
 */
interface Session extends AutoCloseable {
    /** Closed-loop clients the generator runs, each with one operation in flight. */
    default int clients(LoadOptions o) {
        return o.clients();
    }

    /** Issues client {@code client}'s next operation; {@code done} is called exactly once. */
    void issue(int client, SplittableRandom rnd, Workload.Callback done);

    /** The session's own tally of what the run counts, or null to count the completed operations. */
    default Tally counted() {
        return null;
    }

    /** The measured window [from, end) the generator chose, for sessions that count something of their own. */
    default void window(long fromNanos, long endNanos) {}

    /** Figures measured after the timed part (e.g. lease expiry accuracy), in order; may take a few seconds. */
    default Map<String, Double> finish(PrintStream log) throws InterruptedException {
        return Map.of();
    }

    /** Figures about the timed part beyond throughput and latency (e.g. writes per second), given its length. */
    default Map<String, Double> extras(double seconds) {
        return Map.of();
    }

    @Override
    default void close() throws InterruptedException {}
}
