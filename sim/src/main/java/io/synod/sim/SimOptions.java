package io.synod.sim;

import java.util.SplittableRandom;

/**
 * The shape of one simulated run. Everything not given explicitly is drawn from the seed, so a
 * seed alone replays a run exactly: {@code bin/synod sim --replay SEED}.
 *
 * @param nodes        founding voters (1, 3, 5 or 7); 0 means "draw from the seed"
 * @param steps        events processed in the fault phase before everything heals
 * @param spareNodes   extra members that start empty and may be added by membership changes
 * @param faults       inject faults (off: a fault-free run, used as a baseline)
 */
public record SimOptions(long seed, int nodes, int steps, int spareNodes, boolean faults) {
    public static final int DEFAULT_STEPS = 10000;

    public SimOptions {
        if (nodes != 0 && (nodes < 1 || nodes > 9)) throw new IllegalArgumentException("nodes must be 1..9 (or 0 for seeded), got " + nodes);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }

    public static SimOptions of(long seed) {
        return new SimOptions(seed, 0, DEFAULT_STEPS, 2, true);
    }

    /** The founding cluster size for this run: given, or drawn from the seed (mostly 3 and 5). */
    int resolvedNodes() {
        if (nodes != 0) return nodes;
        int r = new SplittableRandom(seed ^ 0x5DEECE66DL).nextInt(10);
        return r == 0 ? 1 : r <= 4 ? 3 : r <= 8 ? 5 : 7;
    }

    /** The one-line command that replays this run. */
    public String replayCommand() {
        var sb = new StringBuilder("bin/synod sim --replay ").append(seed);
        if (nodes != 0) sb.append(" --nodes ").append(nodes);
        if (steps != DEFAULT_STEPS) sb.append(" --steps ").append(steps);
        if (!faults) sb.append(" --no-faults");
        return sb.toString();
    }
}
