package io.synod.chaos;

import java.io.IOException;
import java.util.List;

/**
 * The network between the members, and how faults are injected into it. Two implementations:
 * {@link NetnsNetwork} (each member in its own network namespace on a bridge, partitions and loss
 * by iptables rules inside the namespaces) and {@link ProxyNetwork} (loopback, every directed peer
 * link through a fault-injecting TCP proxy; works anywhere, and is the only one with latency).
 * "Link {@code from → to}" means the connections member {@code from} opens to member {@code to}'s
 * peer port, which carry {@code from}'s Raft messages and forwarded requests to {@code to}.
 */
public interface Network extends AutoCloseable {
    /** {@code netns} or {@code loopback}, as the final line reports it. */
    String mode();

    /** Host the harness's clients use for member {@code i}. */
    String clientHost(int i);

    int clientPort(int i);

    /** Member {@code i}'s listen flags ({@code --listen-client-urls}, {@code --listen-peer-urls}). */
    List<String> listenFlags(int i);

    /** The peer URL by which member {@code viewer} reaches member {@code member} (its own, for itself): its {@code --initial-cluster} entry. */
    String peerUrl(int viewer, int member);

    /**
     * Whether members can be added and removed at run time. Needs one peer URL per member that every member
     * agrees on (the replicated member table holds one URL per member): true in namespace mode; false on
     * loopback, where each member reaches the others through proxies of its own.
     */
    boolean supportsMembership();

    /** Prepended to the member's command line (e.g. {@code ip netns exec <ns>}). */
    List<String> launchPrefix(int i);

    /** Drops (or, with {@code refuse}, resets) everything member {@code from} sends to member {@code to}'s peer port. */
    void block(int from, int to, boolean refuse) throws IOException;

    /** Whether {@link #latency} does anything in this mode. */
    boolean supportsLatency();

    void latency(long delayMillis, long jitterMillis) throws IOException;

    /** Loss on every peer link; {@code severity} in [0, 1] is mapped to what the mode can do. Returns a description. */
    String loss(double severity) throws IOException;

    /** Removes every fault. */
    void heal() throws IOException;

    @Override
    void close();
}
