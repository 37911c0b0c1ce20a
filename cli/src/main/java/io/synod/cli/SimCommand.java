package io.synod.cli;

import io.synod.sim.SimOptions;
import io.synod.sim.SimResult;
import io.synod.sim.SimRunner;
import io.synod.sim.Simulation;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synod sim}: runs the deterministic cluster simulator over a range of seeds, or replays
 * one seed with a full report. Exit code 1 when any seed violates a safety or liveness property.
 */
@Command(name = "sim", mixinStandardHelpOptions = true, description = "Run the deterministic Raft simulator over seeds (or replay one).")
public final class SimCommand implements Callable<Integer> {
    @Option(names = "--seeds", defaultValue = "100", description = "How many seeds to run (default ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--first-seed", defaultValue = "1", description = "First seed (default ${DEFAULT-VALUE}).")
    long firstSeed;

    @Option(names = "--nodes", defaultValue = "0", description = "Founding voters (1..9); 0 draws 1, 3, 5 or 7 from each seed.")
    int nodes;

    @Option(names = "--steps", defaultValue = "" + SimOptions.DEFAULT_STEPS, description = "Events in the fault phase of each seed (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--no-faults", description = "Run without fault injection.")
    boolean noFaults;

    @Option(names = "--replay", description = "Replay exactly this seed and print its full report.")
    Long replay;

    @Option(names = "--verbose", description = "Print one summary line per seed.")
    boolean verbose;

    @Option(names = "--max-failures", defaultValue = "10", description = "Stop after this many failing seeds.")
    int maxFailures;

    @Override
    public Integer call() {
        var template = new SimOptions(firstSeed, nodes, steps, 2, !noFaults);
        if (replay != null) {
            var o = new SimOptions(replay, nodes, steps, 2, !noFaults);
            SimResult r = Simulation.run(o);
            System.out.println(r.summary());
            r.violations().forEach(v -> System.out.println("VIOLATION: " + v));
            System.out.printf("seeds=1 violations=%d seeds_per_second=0%n", r.violations().isEmpty() ? 0 : 1);
            return r.ok() ? 0 : 1;
        }
        SimRunner.Summary s = SimRunner.run(template, firstSeed, seeds, verbose, maxFailures, System.out);
        return s.failures().isEmpty() ? 0 : 1;
    }
}
