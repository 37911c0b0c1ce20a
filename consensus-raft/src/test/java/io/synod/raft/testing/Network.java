package io.synod.raft.testing;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.ReadState;
import io.synod.consensus.Ready;
import io.synod.consensus.Role;
import io.synod.consensus.Status;
import io.synod.raft.RaftBootstrap;
import io.synod.raft.RaftConfig;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A deterministic, single-threaded network of {@link RaftNode}s for scenario tests. Each node
 * has a {@link MemoryLogStorage} as its "disk" and a trivial state machine (the list of applied
 * payloads). The driver follows the {@link Ready} contract: persist, send, apply, advance.
 * Messages go into one FIFO queue; {@link #stabilize()} delivers until nothing is left.
 * Links can be cut (drop rules), nodes crashed and restarted from their storage. There is no
 * clock: time only moves when a test ticks a node.
 */
public final class Network {
    /** Per-member config tweaks; the id is already set. */
    private final UnaryOperator<RaftConfig.Builder> configure;
    private final long seed;
    private final TreeMap<Long, Member> members = new TreeMap<>();
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    /** Every message a node emitted (before any drop), in order. */
    private final List<Message> sent = new ArrayList<>();
    private final List<Predicate<Message>> dropRules = new ArrayList<>();
    private final Set<Long> isolated = new HashSet<>();
    private BiConsumer<Long, Entry> applyHook = (id, e) -> { };
    /** Safety checks across the whole run: which entry each index applied as, and who led each term. */
    private final TreeMap<Long, Entry> appliedAt = new TreeMap<>();
    private final TreeMap<Long, Long> leaderOfTerm = new TreeMap<>();
    /** When true, a delivered SnapshotRequest is reported to its sender as a success, a dropped one as a failure. */
    private boolean autoReportSnapshot = true;

    /** One member: the node, its durable storage and its applied state. */
    public static final class Member {
        public final long id;
        public final MemoryLogStorage storage;
        public RaftNode node;
        public boolean up = true;
        /** Entries applied through committedEntries (not via a snapshot), in order; reset on restart. */
        public final List<Entry> appliedEntries = new ArrayList<>();
        /** The state machine: payloads of non-empty NORMAL entries, in apply order. */
        public List<String> state = new ArrayList<>();
        public long appliedIndex;
        public ConfState conf = ConfState.EMPTY;
        /** Every membership this node applied, in order. */
        public final List<ConfState> confHistory = new ArrayList<>();
        public final List<ReadState> readStates = new ArrayList<>();
        public final List<String> readsAborted = new ArrayList<>();
        /** Roles this node reported through soft state, in order (consecutive duplicates dropped). */
        public final List<Role> roles = new ArrayList<>();

        Member(long id, MemoryLogStorage storage) {
            this.id = id;
            this.storage = storage;
        }
    }

    public Network(long seed, UnaryOperator<RaftConfig.Builder> configure) {
        this.seed = seed;
        this.configure = configure;
    }

    /** A group of founding voters with the given ids (each starting from the bootstrap entry). */
    public static Network founding(long seed, UnaryOperator<RaftConfig.Builder> configure, long... ids) {
        var net = new Network(seed, configure);
        var voters = new TreeSet<Long>();
        for (long id : ids) voters.add(id);
        for (long id : ids) net.add(id, RaftBootstrap.foundingStorage(voters));
        return net;
    }

    public static Network founding(long... ids) {
        return founding(42, b -> b, ids);
    }

    /** Adds a member over the given storage (use {@code new MemoryLogStorage(ConfState.EMPTY)} for a joiner). */
    public Member add(long id, MemoryLogStorage storage) {
        var m = new Member(id, storage);
        members.put(id, m);
        start(m);
        return m;
    }

    public Member addJoiner(long id) {
        return add(id, new MemoryLogStorage(ConfState.EMPTY));
    }

    private void start(Member m) {
        m.node = new RaftNode(configure.apply(RaftConfig.builder(m.id)).build(), m.storage, new SplittableRandom(seed * 1_000_003L + m.id));
        Snapshot0.restore(m);
        process(m);
    }

    public long seed() {
        return seed;
    }

    public Member member(long id) {
        Member m = members.get(id);
        if (m == null) throw new IllegalArgumentException("no member " + id);
        return m;
    }

    public RaftNode node(long id) {
        return member(id).node;
    }

    public Status status(long id) {
        return node(id).status();
    }

    public Set<Long> ids() {
        return members.keySet();
    }

    public void onApply(BiConsumer<Long, Entry> hook) {
        this.applyHook = hook;
    }

    public void autoReportSnapshot(boolean on) {
        this.autoReportSnapshot = on;
    }

    // ---- driving ------------------------------------------------------------------------------

    /** Handles every Ready a node has (persist, send, apply, advance). */
    public void process(long id) {
        process(member(id));
    }

    private void process(Member m) {
        if (!m.up) return;
        int guard = 0;
        while (m.node.hasReady()) {
            if (++guard > 10_000) throw new AssertionError("node " + m.id + " never runs out of Ready");
            Ready rd = m.node.ready();
            if (rd.softState() != null && (m.roles.isEmpty() || m.roles.get(m.roles.size() - 1) != rd.softState().role())) {
                m.roles.add(rd.softState().role());
            }
            if (rd.softState() != null && rd.softState().role() == Role.LEADER) {
                // Election Safety (Raft §5.2): at most one leader per term.
                long term = m.node.status().term();
                Long other = leaderOfTerm.putIfAbsent(term, m.id);
                if (other != null && other != m.id) {
                    throw new AssertionError("two leaders in term " + term + ": " + other + " and " + m.id + " (seed " + seed + ")");
                }
            }
            // 1. persist
            if (!rd.snapshot().isEmpty()) m.storage.applySnapshot(rd.snapshot());
            m.storage.append(rd.entries());
            if (!rd.hardState().isEmpty()) m.storage.setHardState(rd.hardState());
            // 2. send
            for (Message msg : rd.messages()) {
                sent.add(msg);
                queue.add(msg);
            }
            // 3. apply
            if (!rd.snapshot().isEmpty()) {
                m.state = Snapshot0.decode(rd.snapshot().data());
                m.conf = rd.snapshot().meta().confState();
                m.confHistory.add(m.conf);
                m.appliedIndex = rd.snapshot().meta().index();
            }
            for (Entry e : rd.committedEntries()) {
                if (e.index() != m.appliedIndex + 1) {
                    throw new AssertionError("node " + m.id + " applies " + e.index() + " after " + m.appliedIndex);
                }
                m.appliedIndex = e.index();
                m.appliedEntries.add(e);
                // State Machine Safety (Raft §5.4.3): no two members apply different entries at one index.
                Entry other = appliedAt.putIfAbsent(e.index(), e);
                if (other != null && !other.equals(e)) {
                    throw new AssertionError("node " + m.id + " applied " + e + " at " + e.index() + " where " + other
                            + " was applied before (seed " + seed + ")");
                }
                if (e.type() == EntryType.CONF_CHANGE) {
                    m.conf = m.node.applyConfChange(ConfChange.decode(e.data()));
                    m.confHistory.add(m.conf);
                } else if (e.data().length > 0) {
                    m.state.add(new String(e.data(), StandardCharsets.UTF_8));
                }
                applyHook.accept(m.id, e);
            }
            m.readStates.addAll(rd.readStates());
            for (byte[] ctx : rd.readsAborted()) m.readsAborted.add(new String(ctx, StandardCharsets.UTF_8));
            // 4. advance
            m.node.advance(rd);
        }
    }

    private void processAll() {
        for (Member m : members.values()) process(m);
    }

    /** Whether a message would be dropped right now. */
    private boolean dropped(Message msg) {
        if (isolated.contains(msg.from()) || isolated.contains(msg.to())) return true;
        for (Predicate<Message> rule : dropRules) if (rule.test(msg)) return true;
        return false;
    }

    /** Delivers (or drops) the oldest queued message; false if the queue was empty. */
    public boolean deliverOne() {
        Message msg = queue.poll();
        if (msg == null) return false;
        deliverNow(msg);
        return true;
    }

    /** Delivers (or drops) the {@code i}-th queued message, overtaking older ones (reordering). */
    public void deliverAt(int i) {
        var it = queue.iterator();
        for (int k = 0; k < i; k++) it.next();
        Message msg = it.next();
        it.remove();
        deliverNow(msg);
    }

    public int queueSize() {
        return queue.size();
    }

    private void deliverNow(Message msg) {
        Member to = members.get(msg.to());
        boolean drop = to == null || !to.up || dropped(msg);
        if (!drop) {
            to.node.step(msg);
            process(to);
        }
        if (autoReportSnapshot && msg instanceof RaftMessage.SnapshotRequest) {
            Member from = members.get(msg.from());
            if (from != null && from.up) {
                from.node.reportSnapshot(msg.to(), !drop);
                process(from);
            }
        }
    }

    /** Delivers messages until none is left (and no node has anything to do). */
    public void stabilize() {
        int guard = 0;
        processAll();
        while (deliverOne()) {
            if (++guard > 1_000_000) throw new AssertionError("network does not stabilize (seed " + seed + ")");
        }
        processAll();
    }

    /**
     * Loses every queued message. A lost SnapshotRequest is reported to its sender as failed (when
     * auto-reporting is on), as a transport would.
     */
    public List<Message> drainQueue() {
        var out = new ArrayList<>(queue);
        queue.clear();
        for (Message msg : out) {
            Member from = members.get(msg.from());
            if (autoReportSnapshot && msg instanceof RaftMessage.SnapshotRequest && from != null && from.up) {
                from.node.reportSnapshot(msg.to(), false);
                process(from);
            }
        }
        return out;
    }

    public List<Message> queued() {
        return List.copyOf(queue);
    }

    /** Ticks one node once and handles its Ready (no delivery). */
    public void tick(long id) {
        Member m = member(id);
        if (!m.up) return;
        m.node.tick();
        process(m);
    }

    /** Ticks every up node {@code n} times, stabilizing after each round. */
    public void tickAll(int n) {
        for (int i = 0; i < n; i++) {
            for (Member m : members.values()) {
                if (!m.up) continue;
                m.node.tick();
                process(m);
            }
            stabilize();
        }
    }

    /** Ticks {@code id} until it starts campaigning (it must be a promotable follower), then stabilizes. */
    public void campaign(long id) {
        Member m = member(id);
        Role before = m.node.status().role();
        for (int i = 0; i < 1000 && m.node.status().role() == before; i++) tick(id);
        if (m.node.status().role() == before) throw new AssertionError("node " + id + " never campaigned");
        stabilize();
    }

    /**
     * Campaigns {@code id}, asserts that it became leader, then runs one heartbeat round so that
     * every reachable member also learns the commit of the leader's no-op.
     */
    public void elect(long id) {
        campaign(id);
        if (m(id).role() != Role.LEADER) throw new AssertionError("node " + id + " did not become leader: " + m(id));
        heartbeat(id);
    }

    /** Ticks the leader {@code id} until it sends a heartbeat round, then stabilizes. */
    public void heartbeat(long id) {
        int before = sent(RaftMessage.HeartbeatRequest.class).size();
        for (int i = 0; i < 100 && sent(RaftMessage.HeartbeatRequest.class).size() == before; i++) tick(id);
        stabilize();
    }

    private Status m(long id) {
        return node(id).status();
    }

    /** Injects a message directly into a node (bypassing the queue and the drop rules). */
    public void deliver(Message msg) {
        Member to = member(msg.to());
        to.node.step(msg);
        process(to);
    }

    public ProposeResult propose(long id, String data) {
        ProposeResult r = node(id).propose(data.getBytes(StandardCharsets.UTF_8));
        process(id);
        return r;
    }

    public ProposeResult proposeConfChange(long id, ConfChange cc) {
        ProposeResult r = node(id).proposeConfChange(cc);
        process(id);
        return r;
    }

    public ProposeResult readIndex(long id, String ctx) {
        ProposeResult r = node(id).readIndex(ctx.getBytes(StandardCharsets.UTF_8));
        process(id);
        return r;
    }

    public ProposeResult transferLeadership(long id, long to) {
        ProposeResult r = node(id).transferLeadership(to);
        process(id);
        return r;
    }

    /** The current leader as every up member agrees on it, or 0. */
    public long leader() {
        long lead = 0;
        for (Member m : members.values()) {
            if (m.up && m.node.status().role() == Role.LEADER) {
                if (lead != 0 && m.node.status().term() == node(lead).status().term()) {
                    throw new AssertionError("two leaders in one term: " + lead + " and " + m.id);
                }
                if (lead == 0 || m.node.status().term() > node(lead).status().term()) lead = m.id;
            }
        }
        return lead;
    }

    // ---- faults -------------------------------------------------------------------------------

    /** Drops messages matching the rule until {@link #heal()}. */
    public void drop(Predicate<Message> rule) {
        dropRules.add(rule);
    }

    /** Drops messages from {@code from} to {@code to} (one direction). */
    public void cut(long from, long to) {
        drop(msg -> msg.from() == from && msg.to() == to);
    }

    /** Drops everything to and from {@code id}. */
    public void isolate(long id) {
        isolated.add(id);
    }

    /** Splits the members into two sides that cannot talk to each other. */
    public void partition(Set<Long> side) {
        drop(msg -> side.contains(msg.from()) != side.contains(msg.to()));
    }

    public void heal() {
        dropRules.clear();
        isolated.clear();
    }

    /** Stops a node: it loses everything that is not in its storage; messages to it are dropped. */
    public void crash(long id) {
        member(id).up = false;
    }

    /** Restarts a crashed node from its storage (the state machine is rebuilt from snapshot and log). */
    public void restart(long id) {
        Member m = member(id);
        m.up = true;
        m.appliedEntries.clear();
        start(m);
    }

    // ---- observation --------------------------------------------------------------------------

    public List<Message> sent() {
        return List.copyOf(sent);
    }

    public void clearSent() {
        sent.clear();
    }

    public <T extends Message> List<T> sent(Class<T> type) {
        var out = new ArrayList<T>();
        for (Message msg : sent) if (type.isInstance(msg)) out.add(type.cast(msg));
        return out;
    }

    /** Takes a snapshot of {@code id}'s applied state at its applied index and compacts its log. */
    public void compact(long id) {
        Member m = member(id);
        m.storage.createSnapshot(m.appliedIndex, m.conf, Snapshot0.encode(m.state));
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Encoding of the toy state machine into snapshot bytes. */
    static final class Snapshot0 {
        private Snapshot0() {}

        static byte[] encode(List<String> state) {
            try {
                var bos = new ByteArrayOutputStream();
                var out = new DataOutputStream(bos);
                out.writeInt(state.size());
                for (String s : state) out.writeUTF(s);
                return bos.toByteArray();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        static List<String> decode(byte[] data) {
            var out = new ArrayList<String>();
            if (data.length == 0) return out;
            try {
                var in = new DataInputStream(new java.io.ByteArrayInputStream(data));
                int n = in.readInt();
                for (int i = 0; i < n; i++) out.add(in.readUTF());
                return out;
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** On (re)start the state machine is what the stored snapshot holds. */
        static void restore(Member m) {
            var snap = m.storage.snapshot();
            m.state = decode(snap.data());
            m.appliedIndex = snap.meta().index();
            m.conf = m.storage.confState();
        }
    }
}
