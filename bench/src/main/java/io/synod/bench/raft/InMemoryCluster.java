package io.synod.bench.raft;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.Ready;
import io.synod.consensus.Role;
import io.synod.raft.RaftBootstrap;
import io.synod.raft.RaftConfig;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftNode;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A Raft group of {@link RaftNode}s driven in one thread with nothing but memory between them,
 * for measuring the consensus core alone: each member's Ready is persisted into its own
 * {@link MemoryLogStorage}, its messages are queued and delivered with {@code step}, committed
 * entries are "applied" by doing nothing with them (membership changes excepted), and the member
 * is advanced. There is no network, disk, clock or simulator, so whatever time a benchmark built
 * on it measures is spent in the core and in this minimal driver. Not thread-safe.
 */
public final class InMemoryCluster {
    private final long[] ids;
    private final RaftNode[] nodes;
    private final MemoryLogStorage[] storages;
    private final ConfState[] confs;
    private final long[] applied;
    private final ArrayDeque<Message> inFlight = new ArrayDeque<>();
    private final long compactEvery;
    private long appliedSinceCompaction;
    // Work counters (plain increments, cheap enough to leave on): see RaftBatchAnatomy.
    private long rounds, readies, messages, appendRequests, appendEntriesSent;

    /**
     * @param size         members, with ids 1..size, all founding voters
     * @param seed         seeds each member's election-timeout randomness (member i gets seed + i)
     * @param compactEvery compact every storage once this many entries were applied since the last compaction
     */
    public InMemoryCluster(int size, long seed, long compactEvery) {
        this(size, seed, compactEvery, b -> b);
    }

    /**
     * As {@link #InMemoryCluster(int, long, long)}, with each member's configuration adjusted by
     * {@code tune} (applied to a builder holding the defaults), for what-if runs.
     */
    public InMemoryCluster(int size, long seed, long compactEvery, java.util.function.UnaryOperator<RaftConfig.Builder> tune) {
        this.compactEvery = compactEvery;
        ids = new long[size];
        nodes = new RaftNode[size];
        storages = new MemoryLogStorage[size];
        confs = new ConfState[size];
        applied = new long[size];
        Set<Long> voters = new TreeSet<>();
        for (int i = 0; i < size; i++) voters.add((long) i + 1);
        for (int i = 0; i < size; i++) {
            ids[i] = i + 1;
            storages[i] = RaftBootstrap.foundingStorage(voters);
            confs[i] = storages[i].confState();
            nodes[i] = new RaftNode(tune.apply(RaftConfig.builder(ids[i])).build(), storages[i], new SplittableRandom(seed + i));
        }
    }

    /** Ticks every member and drives to quiescence until one leads; returns its position (0-based). */
    public int electLeader(int maxTicks) {
        for (int t = 0; t < maxTicks; t++) {
            for (RaftNode n : nodes) n.tick();
            driveUntilQuiet();
            int leader = leaderIndex();
            if (leader >= 0) {
                driveUntilQuiet();
                return leader;
            }
        }
        throw new IllegalStateException("no leader after " + maxTicks + " ticks");
    }

    /** Position of the current leader, or -1 if none. */
    public int leaderIndex() {
        for (int i = 0; i < nodes.length; i++) if (nodes[i].status().role() == Role.LEADER) return i;
        return -1;
    }

    public RaftNode node(int i) {
        return nodes[i];
    }

    public long applied(int i) {
        return applied[i];
    }

    /** Proposes {@code data} at member {@code i}; fails loudly if refused (a benchmark must not silently drop work). */
    public long propose(int i, byte[] data) {
        ProposeResult r = nodes[i].propose(data);
        if (r instanceof ProposeResult.Accepted a) return a.index();
        throw new IllegalStateException("proposal refused: " + r);
    }

    /** Handles Readies and delivers messages until member {@code i} has applied {@code index}. */
    public void driveUntilApplied(int i, long index) {
        while (applied[i] < index) {
            if (!driveRound()) throw new IllegalStateException("cluster went quiet with member " + ids[i] + " applied at " + applied[i] + " < " + index);
        }
    }

    /** Handles Readies and delivers messages until nothing is left to do. */
    public void driveUntilQuiet() {
        while (driveRound()) { }
    }

    /** One round: every member's Ready, then every queued message. Returns false if there was nothing to do. */
    private boolean driveRound() {
        boolean didWork = false;
        for (int i = 0; i < nodes.length; i++) {
            if (nodes[i].hasReady()) {
                handleReady(i);
                didWork = true;
            }
        }
        int n = inFlight.size();
        messages += n;
        rounds++;
        for (int k = 0; k < n; k++) {
            Message m = inFlight.poll();
            if (m instanceof RaftMessage.AppendRequest a) {
                appendRequests++;
                appendEntriesSent += a.entries().size();
            }
            nodes[(int) m.to() - 1].step(m);
            didWork = true;
        }
        maybeCompact();
        return didWork;
    }

    private void handleReady(int i) {
        RaftNode node = nodes[i];
        MemoryLogStorage s = storages[i];
        Ready rd = node.ready();
        readies++;
        if (!rd.snapshot().isEmpty()) {
            s.applySnapshot(rd.snapshot());
            applied[i] = Math.max(applied[i], rd.snapshot().meta().index());
            confs[i] = rd.snapshot().meta().confState();
        }
        s.append(rd.entries());
        if (!rd.hardState().isEmpty()) s.setHardState(rd.hardState());
        inFlight.addAll(rd.earlyMessages());
        inFlight.addAll(rd.messages());
        for (Entry e : rd.committedEntries()) {
            if (e.type() == EntryType.CONF_CHANGE) confs[i] = node.applyConfChange(ConfChange.decode(e.data()));
            applied[i] = e.index();
        }
        if (i == 0) appliedSinceCompaction += rd.committedEntries().size();
        node.advance(rd);
    }

    /**
     * Compacts every storage up to the lowest applied index of all members once enough was applied,
     * so that no leader ever needs to send a snapshot and memory stays bounded however long it runs.
     */
    private void maybeCompact() {
        if (appliedSinceCompaction < compactEvery) return;
        appliedSinceCompaction = 0;
        long floor = Long.MAX_VALUE;
        for (long a : applied) floor = Math.min(floor, a);
        for (int i = 0; i < storages.length; i++) {
            MemoryLogStorage s = storages[i];
            long upTo = Math.min(floor, s.lastIndex());
            if (upTo > s.snapshot().meta().index()) s.createSnapshot(upTo, confs[i], new byte[0]);
        }
    }

    /**
     * Work done so far: {@code [driver rounds, Readies handled, messages delivered, append requests
     * delivered, entries carried by them]}.
     */
    public long[] counters() {
        return new long[] {rounds, readies, messages, appendRequests, appendEntriesSent};
    }

    /** Entries held (not yet compacted) in member {@code i}'s storage. */
    public long retainedEntries(int i) {
        return storages[i].lastIndex() - storages[i].firstIndex() + 1;
    }
}
