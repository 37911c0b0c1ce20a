package io.synod.sim;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs many seeds of the {@link Simulation} and reports them in the one format scripts rely on:
 * a final line {@code seeds=N violations=V seeds_per_second=R}, and for every failing seed its
 * violation and the one-line command that replays it.
 */
public final class SimRunner {
    private SimRunner() {}

    /** What a batch of seeds found. */
    public record Summary(int seeds, List<SimResult> failures, double seedsPerSecond, long unknownLinearizability) {}

    /**
     * @param template options for every seed; its seed field is replaced by firstSeed, firstSeed+1, ...
     * @param maxFailures stop after this many failing seeds (a broken build need not run the whole soak)
     */
    public static Summary run(SimOptions template, long firstSeed, int seeds, boolean verbose, int maxFailures, PrintStream out) {
        long start = System.nanoTime();
        var failures = new ArrayList<SimResult>();
        long unknown = 0;
        int ran = 0;
        for (int i = 0; i < seeds; i++) {
            var o = new SimOptions(firstSeed + i, template.nodes(), template.steps(), template.spareNodes(), template.faults());
            SimResult r = Simulation.run(o);
            ran++;
            if (r.linearizability().startsWith("UNKNOWN")) unknown++;
            if (verbose) out.println(r.summary());
            if (!r.ok()) {
                failures.add(r);
                out.println("VIOLATION seed=" + o.seed() + ": " + String.join("; ", r.violations()));
                out.println("  replay: " + o.replayCommand());
                if (failures.size() >= maxFailures) break;
            }
        }
        double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        double rate = ran / secs;
        if (unknown > 0) out.println("linearizability_unknown=" + unknown + " (checker time budget exceeded; not counted as pass)");
        out.printf("seeds=%d violations=%d seeds_per_second=%.1f%n", ran, failures.size(), rate);
        return new Summary(ran, failures, rate, unknown);
    }
}
