package io.synod.chaos;

/**
 * The faults the nemesis can inject. Partitions act on the per-link proxies (blackholing traffic
 * like an iptables DROP, or refusing it like REJECT) or on iptables rules in the members'
 * namespaces; latency and loss too; kills and pauses act on member processes by pid; clock skew
 * through libfaketime's timestamp file, read by the members every second; membership changes
 * through etcd's Cluster API, while another fault is active.
 */
public enum Fault {
    /** Two sides that cannot reach each other in either direction. */
    PARTITION_SYMMETRIC,
    /** One side's traffic to the other is dropped; the other direction still flows. */
    PARTITION_ASYMMETRIC,
    /** The leader cut off from everyone. */
    ISOLATE_LEADER,
    /** A random minority cut off from the majority. */
    MAJORITY_MINORITY,
    /** Two halves that cannot reach each other, and one member reaching both. */
    BRIDGE,
    /** Added delay and jitter on every peer link. */
    LATENCY,
    /** Connections reset at random on every peer link (what loss looks like above TCP). */
    LOSS,
    /** SIGKILL of a random member, restarted after a while. */
    KILL,
    /** SIGKILL of the leader, restarted after a while. */
    KILL_LEADER,
    /** SIGSTOP of a random member for longer than the election timeout, then SIGCONT. */
    PAUSE,
    /** SIGSTOP of the leader for longer than the election timeout, then SIGCONT. */
    PAUSE_LEADER,
    /** The wall clock of one or more members jumps (libfaketime); the monotonic clock is left alone. */
    CLOCK_SKEW,
    /** One member's disk (a tmpfs of its own) filled to the last byte, then freed; the member may exit and is restarted. */
    DISK_FULL,
    /**
     * A membership change (add a learner and promote it, or remove a member, the leader included) made while
     * another fault (a partition, kill, pause, loss, or none) is active; see {@link Membership}.
     */
    MEMBERSHIP,
    /**
     * SIGKILL of one member, a majority or all of them at the same moment, restarted together after a while: with
     * the power-cut emulation on, each loses its unflushed WAL writes, as in a power cut of those machines.
     */
    POWER_CUT;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
