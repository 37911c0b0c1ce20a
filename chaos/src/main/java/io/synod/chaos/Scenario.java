package io.synod.chaos;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Named scenarios: each draws its faults (one at a time, with quiet gaps) from a fixed set.
 * {@code mixed} draws from all but clock skew (libfaketime slows the members down too much to mix it
 * in), full disks (they need tmpfs data directories) and power cuts (their own scenario, which turns
 * the members' power-cut emulation on); a random run (--runs/--seed) draws its scenario from the seed.
 * {@code membership} and {@code mixed} give the cluster spare member slots to add members in.
 */
public enum Scenario {
    PARTITION(EnumSet.of(Fault.PARTITION_SYMMETRIC, Fault.MAJORITY_MINORITY)),
    PARTITION_ASYMMETRIC(EnumSet.of(Fault.PARTITION_ASYMMETRIC)),
    ISOLATE_LEADER(EnumSet.of(Fault.ISOLATE_LEADER)),
    BRIDGE(EnumSet.of(Fault.BRIDGE)),
    NETWORK(EnumSet.of(Fault.LATENCY, Fault.LOSS)),
    KILL(EnumSet.of(Fault.KILL, Fault.KILL_LEADER)),
    PAUSE(EnumSet.of(Fault.PAUSE, Fault.PAUSE_LEADER)),
    /** Opt-in: members run under libfaketime, which slows their start and every clock read several-fold. */
    CLOCK(EnumSet.of(Fault.CLOCK_SKEW)),
    /** Opt-in: members' data directories live on small tmpfs disks (no real fsync), so this stays out of {@code mixed}. */
    DISK(EnumSet.of(Fault.DISK_FULL, Fault.KILL)),
    /** Membership changes (add a learner, promote it, remove a member or the leader, re-add) while partitions, kills, pauses or loss are active. */
    MEMBERSHIP(EnumSet.of(Fault.MEMBERSHIP)),
    /** Members run with {@code --synod-unsafe-power-cut-emulation}; one member, a majority or all are killed at once. */
    POWER_CUT(EnumSet.of(Fault.POWER_CUT, Fault.KILL_LEADER)),
    MIXED(EnumSet.complementOf(EnumSet.of(Fault.CLOCK_SKEW, Fault.DISK_FULL, Fault.POWER_CUT)));

    private final Set<Fault> faults;

    Scenario(Set<Fault> faults) {
        this.faults = faults;
    }

    /** Scenarios a random run (--runs/--seed) draws from: everything but the opt-in ones. */
    public static List<Scenario> drawable() {
        return List.of(PARTITION, PARTITION_ASYMMETRIC, ISOLATE_LEADER, BRIDGE, NETWORK, KILL, PAUSE, MEMBERSHIP, POWER_CUT, MIXED);
    }

    /** Whether the members run with the power-cut emulation (a kill loses unflushed WAL writes). */
    public boolean powerCutEmulation() {
        return this == POWER_CUT;
    }

    /** Whether the cluster needs spare slots for members added at run time. */
    public boolean changesMembership() {
        return faults.contains(Fault.MEMBERSHIP);
    }

    public List<Fault> faults() {
        return List.copyOf(faults);
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Scenario parse(String s) {
        for (Scenario sc : values()) if (sc.label().equals(s) || sc.name().equalsIgnoreCase(s)) return sc;
        throw new IllegalArgumentException("unknown scenario '" + s + "'; known: " + labels());
    }

    public static String labels() {
        var sb = new StringBuilder();
        for (Scenario sc : values()) sb.append(sb.length() == 0 ? "" : ", ").append(sc.label());
        return sb.toString();
    }
}
