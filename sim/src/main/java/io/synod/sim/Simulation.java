package io.synod.sim;

import io.synod.check.CheckResult;
import io.synod.check.LinearizabilityChecker;
import io.synod.check.Operation;
import io.synod.check.Outcome;
import io.synod.check.Verdict;
import io.synod.check.kv.KvInput;
import io.synod.check.kv.KvModel;
import io.synod.check.kv.KvOutput;
import io.synod.common.Assert;
import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.HardState;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.ReadState;
import io.synod.consensus.Ready;
import io.synod.consensus.Role;
import io.synod.consensus.Snapshot;
import io.synod.raft.RaftBootstrap;
import io.synod.raft.RaftConfig;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftNode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A whole Synod cluster of real {@link RaftNode} cores in one thread, over a simulated network
 * and simulated disks, driven by one seed. Virtual time advances from event to event, so a run
 * covers seconds of cluster life in milliseconds and replays bit-for-bit from its seed.
 *
 * <p>A run has a <em>fault phase</em> (message loss, duplication, reordering and delay;
 * symmetric, asymmetric and bridge partitions; crashes that lose unsynced and torn writes; slow
 * disks; skewed tick rates; membership changes and leadership transfers) while simulated clients
 * put, read (ReadIndex) and compare-and-set, and a <em>liveness phase</em> after every fault
 * heals, in which a leader must be elected and a new proposal must reach every member within a
 * bounded time. Safety properties are checked continuously ({@link SafetyChecker}); the client
 * history is checked for linearizability at the end.
 */
public final class Simulation {
    private static final long NONE = 0;
    private static final long TICK_MS = 10;
    private static final int ELECTION_TICKS = 10;
    private static final long KEY_EPOCH_MS = 400;
    private static final long CHECK_TIMEOUT_MS = 5_000;
    private static final long LIVENESS_DEADLINE_MS = 80 * ELECTION_TICKS * TICK_MS;
    private static final long EVENTS_MAX = 3_000_000;
    /** -Dsynod.sim.trace=true prints every delivered message (use with --replay). */
    private static final boolean TRACE = Boolean.getBoolean("synod.sim.trace");

    private final SimOptions opts;
    private final SplittableRandom rnd;
    private final SafetyChecker safety = new SafetyChecker();

    private record Event(long time, long seq, Runnable action) {}

    private final PriorityQueue<Event> queue = new PriorityQueue<>((a, b) -> a.time != b.time ? Long.compare(a.time, b.time) : Long.compare(a.seq, b.seq));
    private long now;
    private long seq;
    private long events;
    private boolean faultPhase = true;

    private final TreeMap<Long, SimNode> nodes = new TreeMap<>();
    private final int foundingVoters;

    // Network model.
    private final Set<Long> blocked = new HashSet<>();
    private double lossRate;
    private double dupRate;
    private int longDelayPercent;

    // Run parameters drawn from the seed.
    private final boolean churn;
    private final boolean staleLeader;
    /** How long a client waits for an operation before recording it as indeterminate. */
    private final long opTimeoutMs;
    /** Percent of operations a client sends to the member that served it last. */
    private final int stickyPercent;
    private final int appendEntriesMax;
    /** Protocol options are drawn per seed: every supported combination must be safe. */
    private final boolean preVote;
    private final boolean checkQuorum;
    private final int inflightMax;
    private final int snapshotInterval;
    private final int clients;
    private final int keys;
    /** Fault intensity drawn per seed: mean gap between nemesis actions, and how fast crashed nodes come back. */
    private final long nemesisGapMs;
    private final long restartDelayMaxMs;
    /** Percent chance that a newly elected leader is crashed within a few ms (hits the window where it re-replicates old entries). */
    private final int crashNewLeaderPercent;
    /** Percent chance that a member reboots right after granting a vote (a vote must survive that). */
    private final int rebootAfterVotePercent;
    /** Percent chance that a newly elected leader is cut off for a while (it accumulates uncommitted entries). */
    private final int isolateNewLeaderPercent;
    /** Percent chance that a leader crashes right after accepting a proposal (leaves divergent uncommitted tails). */
    private final int crashAfterProposePercent;
    /**
     * Percent chance that a leader is cut off at the moment it applies an entry of an earlier term:
     * the first commits of a new leader are where Raft's Figure 8 bugs surface.
     */
    private final int isolateOnOldTermApplyPercent;
    /** Shortest partition; partitions last 1x to 8x this. */
    private final long partitionMsMin;
    /** Whether members' tick rates differ from the start (clock-rate skew). */
    private final boolean skewedClocks;

    // Clients and history.
    private final List<Operation<KvInput, KvOutput>> history = new ArrayList<>();
    private long nextOpId = 1;
    private long nextValue = 1;
    private int opsOk;
    private int opsUnknown;
    private int crashes;
    private int leaderChanges;
    private int confChanges;
    private int snapshotsSent;

    private Simulation(SimOptions opts) {
        this.opts = opts;
        this.rnd = new SplittableRandom(opts.seed());
        this.foundingVoters = opts.resolvedNodes();
        // One seed in four runs the "leader churn" profile: leaders crash or are cut off right after
        // they are elected or accept a proposal, one entry per append. This drives the cluster through
        // the rare interleavings (Raft's Figure 8) where old-term entries must not be committed by count.
        this.churn = rnd.nextInt(4) == 0;
        this.appendEntriesMax = churn ? 1 : pick(1, 2, 3, 8, 64);
        // One seed in four (of the rest) runs the "stale leader" profile: leaders are cut off for long
        // stretches while clients keep talking to them, where a leader that answers reads without
        // confirming its leadership would return stale data.
        this.staleLeader = !churn && rnd.nextInt(3) == 0;
        this.opTimeoutMs = staleLeader ? 200 : pick(200, 800);
        this.preVote = rnd.nextInt(4) != 0;
        this.checkQuorum = rnd.nextInt(4) != 0;
        this.inflightMax = pick(1, 2, 4, 16, 64);
        this.snapshotInterval = pick(5, 20, 50, 200, 100000);
        this.clients = churn ? 8 : 2 + rnd.nextInt(7);
        this.keys = 1 + rnd.nextInt(4);
        this.nemesisGapMs = pick(20, 60, 150, 400);
        this.restartDelayMaxMs = churn ? pick(20, 100) : pick(20, 100, 400, 1500);
        this.isolateOnOldTermApplyPercent = churn ? 50 : pick(0, 0, 10);
        this.crashNewLeaderPercent = churn ? pick(20, 40) : pick(0, 0, 10, 30);
        this.rebootAfterVotePercent = pick(0, 0, 20, 50);
        this.isolateNewLeaderPercent = churn ? pick(20, 50) : pick(0, 0, 20, 50);
        this.crashAfterProposePercent = churn ? pick(10, 30) : pick(0, 0, 5, 20);
        this.partitionMsMin = pick(20, 50, 150);
        this.stickyPercent = pick(0, 50, 90);
        this.skewedClocks = rnd.nextInt(3) == 0;
        this.lossRate = 0;
        this.dupRate = 0;
    }

    private int pick(int... choices) {
        return choices[rnd.nextInt(choices.length)];
    }

    /** Runs one seed to completion. Never throws for a violation: it is reported in the result. */
    public static SimResult run(SimOptions opts) {
        return new Simulation(opts).execute();
    }

    private SimResult execute() {
        var violations = new ArrayList<String>();
        String lin = "not-checked";
        long checkMillis = 0;
        try {
            setUp();
            while (events < opts.steps() && !queue.isEmpty()) {
                processOne();
                if (events % 1024 == 0) checkLogMatching();
            }
            livenessPhase();
            long t0 = System.nanoTime();
            lin = checkLinearizability();
            checkMillis = (System.nanoTime() - t0) / 1_000_000;
            if (lin.startsWith("NOT_LINEARIZABLE")) violations.add("linearizability: " + lin);
        } catch (SimViolation v) {
            violations.add(v.getMessage() + " (at " + now + " ms, event " + events + ")");
        } catch (Assert.InvariantViolation v) {
            violations.add("core invariant: " + v.getMessage() + " (at " + now + " ms, event " + events + ")");
        } catch (RuntimeException e) {
            var where = e.getStackTrace().length > 0 ? e.getStackTrace()[0].toString() : "?";
            violations.add("unexpected " + e + " at " + where + " (at " + now + " ms, event " + events + ")");
        }
        long committed = safety.maxApplied();
        return new SimResult(opts, violations, lin, events, now, committed, opsOk, opsUnknown, crashes, leaderChanges, confChanges,
                snapshotsSent, checkMillis);
    }

    private void processOne() {
        Event e = queue.poll();
        now = e.time;
        events++;
        if (events > EVENTS_MAX) throw new SimViolation("event budget exhausted: the run did not finish");
        e.action.run();
    }

    private void at(long time, Runnable action) {
        queue.add(new Event(time, seq++, action));
    }

    // ---- set-up ---------------------------------------------------------------------------

    private void setUp() {
        var founders = new TreeSet<Long>();
        for (long i = 1; i <= foundingVoters; i++) founders.add(i);
        for (long i = 1; i <= foundingVoters + opts.spareNodes(); i++) {
            MemoryLogStorage disk = founders.contains(i) ? RaftBootstrap.foundingStorage(founders) : new MemoryLogStorage(ConfState.EMPTY);
            var n = new SimNode(i, disk);
            if (skewedClocks) n.tickPeriodMs = TICK_MS * (50 + rnd.nextInt(150)) / 100;
            nodes.put(i, n);
            n.start();
        }
        for (int c = 0; c < clients; c++) {
            int client = c;
            at(rnd.nextLong(50, 300), () -> startOp(client));
        }
        if (opts.faults()) at(rnd.nextLong(100, 400), this::nemesis);
    }

    private RaftConfig raftConfig(long id) {
        return RaftConfig.builder(id)
                .electionTicks(ELECTION_TICKS)
                .heartbeatTicks(1)
                .preVote(preVote)
                .checkQuorum(checkQuorum)
                .appendEntriesMax(appendEntriesMax)
                .inflightAppendsMax(inflightMax)
                .appendBytesMax(4096)
                .build();
    }

    // ---- a simulated member ---------------------------------------------------------------

    private final class SimNode {
        final long id;
        final MemoryLogStorage disk;
        RaftNode raft;
        KvMachine kv;
        ConfState appliedConf;
        long appliedIndex;
        boolean up;
        int incarnation;
        boolean busy;
        boolean driveScheduled;
        long tickPeriodMs = TICK_MS;
        /** While now < pausedUntil the process is frozen: no ticks, no message handling, no I/O. */
        long pausedUntil;
        boolean slowDisk;
        HardState lastHardState = HardState.EMPTY;
        Role lastRole = Role.FOLLOWER;
        /** Proposals accepted here: index -> (term, op). */
        final TreeMap<Long, PendingWrite> pendingWrites = new TreeMap<>();
        /** Reads issued here, by op id. */
        final Map<Long, PendingRead> pendingReads = new HashMap<>();
        /** Read points granted, waiting for apply. */
        final List<ReadState> readsToServe = new ArrayList<>();

        SimNode(long id, MemoryLogStorage disk) {
            this.id = id;
            this.disk = disk;
        }

        void start() {
            incarnation++;
            up = true;
            busy = false;
            driveScheduled = false;
            raft = new RaftNode(raftConfig(id), disk, new SplittableRandom(rnd.nextLong()));
            Snapshot snap = disk.snapshot();
            kv = KvMachine.restore(snap.data());
            appliedConf = disk.confState();
            appliedIndex = snap.meta().index();
            lastHardState = disk.hardState();
            lastRole = Role.FOLLOWER;
            int inc = incarnation;
            at(now + rnd.nextLong(1, tickPeriodMs + 1), () -> tick(inc));
            drive();
        }

        void tick(int inc) {
            if (!up || inc != incarnation) return;
            if (pausedUntil > now) {
                // A paused process (GC, SIGSTOP) misses its ticks: it believes less time has passed.
                at(pausedUntil, () -> tick(inc));
                return;
            }
            raft.tick();
            drive();
            at(now + tickPeriodMs, () -> tick(inc));
        }

        void drive() {
            if (!up || driveScheduled) return;
            if (pausedUntil > now) {
                int inc = incarnation;
                driveScheduled = true;
                at(pausedUntil, () -> {
                    if (inc != incarnation) return;
                    driveScheduled = false;
                    drive();
                });
                return;
            }
            driveScheduled = true;
            int inc = incarnation;
            at(now, () -> {
                if (inc != incarnation) return;
                driveScheduled = false;
                handleReady();
            });
        }

        void handleReady() {
            if (!up || busy || !raft.hasReady()) return;
            Ready rd = raft.ready();
            observe(rd);
            busy = true;
            inFlight = rd;
            long latency = 0;
            if (rd.mustSync() || !rd.entries().isEmpty()) latency = slowDisk ? rnd.nextLong(20, 200) : rnd.nextLong(0, 3);
            int inc = incarnation;
            at(now + latency, () -> persisted(inc, rd));
        }

        void observe(Ready rd) {
            if (rd.softState().role() == Role.LEADER && lastRole != Role.LEADER) {
                long term = raft.status().term();
                safety.onLeader(term, id);
                safety.checkLeaderCompleteness(raft);
                leaderChanges++;
                if (faultPhase && rnd.nextInt(100) < isolateNewLeaderPercent) {
                    long leaderId = id;
                    at(now + rnd.nextLong(0, 50), () -> {
                        if (!faultPhase) return;
                        isolate(leaderId);
                    });
                }
                if (faultPhase && rnd.nextInt(100) < crashNewLeaderPercent) crashSoon(this, 30, restartDelayMaxMs);
            }
            lastRole = rd.softState().role();
            if (!rd.hardState().isEmpty()) {
                SafetyChecker.checkCommitMonotonic(id, lastHardState, rd.hardState());
                lastHardState = rd.hardState();
                if (rd.softState().role() == Role.LEADER) safety.onLeaderCommit(raft, rd.hardState().term(), rd.hardState().commit());
            }
        }

        /** The Ready's writes are durable: send, apply, advance (in that order: see {@link Ready}). */
        void persisted(int inc, Ready rd) {
            if (inc != incarnation || !up) return;
            inFlight = null;
            persist(rd, rd.entries().size(), true);
            for (Message m : rd.messages()) send(m);
            if (!rd.snapshot().isEmpty()) {
                kv = KvMachine.restore(rd.snapshot().data());
                appliedConf = rd.snapshot().meta().confState();
                appliedIndex = rd.snapshot().meta().index();
                failWritesUpTo(appliedIndex);
            }
            for (Entry e : rd.committedEntries()) apply(e);
            readsToServe.addAll(rd.readStates());
            for (byte[] ctx : rd.readsAborted()) pendingReads.remove(ByteBuffer.wrap(ctx).getLong());
            serveReads();
            raft.advance(rd);
            busy = false;
            maybeSnapshot();
            drive();
        }

        /** Makes (a prefix of) a Ready durable: snapshot, then entries, then the hard state. */
        void persist(Ready rd, int entriesToWrite, boolean hardState) {
            if (!rd.snapshot().isEmpty()) disk.applySnapshot(rd.snapshot());
            if (entriesToWrite > 0) disk.append(rd.entries().subList(0, entriesToWrite));
            if (hardState && !rd.hardState().isEmpty()) disk.setHardState(rd.hardState());
        }

        void apply(Entry e) {
            Assert.that(e.index() == appliedIndex + 1, "node %d applies %d after %d", id, e.index(), appliedIndex);
            safety.onApply(id, e);
            appliedIndex = e.index();
            if (faultPhase && lastRole == Role.LEADER && e.term() < raft.status().term() && rnd.nextInt(100) < isolateOnOldTermApplyPercent) {
                isolate(id, rnd.nextLong(300, 1500)); // long enough for the rest to elect a leader without it
            }
            long result = 0;
            KvCommand cmd = null;
            if (e.type() == EntryType.CONF_CHANGE) {
                if (TRACE) System.err.println(now + " node " + id + " applies " + e + " " + ConfChange.decode(e.data()) + " to " + appliedConf);
                appliedConf = raft.applyConfChange(ConfChange.decode(e.data()));
            } else if (e.data().length > 0) {
                cmd = KvCommand.decode(e.data());
                result = kv.apply(cmd);
            }
            PendingWrite w = pendingWrites.remove(e.index());
            if (w == null) return;
            if (w.term != e.term()) {
                retry(w.op); // our entry was replaced by another leader's: it never took effect
                return;
            }
            if (markers.contains(w.op)) markerDone = true;
            else if (w.op.input instanceof KvInput.Cas) completeWrite(w.op, new KvOutput.CasResult(result == 1));
            else completeWrite(w.op, new KvOutput.PutOk());
        }

        /** Writes at or below a snapshot we installed can no longer be matched to entries here. */
        void failWritesUpTo(long index) {
            Iterator<Map.Entry<Long, PendingWrite>> it = pendingWrites.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (e.getKey() > index) break;
                unknown(e.getValue().op);
                it.remove();
            }
        }

        void serveReads() {
            var it = readsToServe.iterator();
            while (it.hasNext()) {
                ReadState rs = it.next();
                if (rs.index() > appliedIndex) continue;
                it.remove();
                PendingRead r = pendingReads.remove(ByteBuffer.wrap(rs.requestContext()).getLong());
                if (r != null) completeRead(r.op, kv.get(r.op.key()));
            }
        }

        void maybeSnapshot() {
            long snapIndex = disk.snapshot().meta().index();
            if (appliedIndex - snapIndex >= snapshotInterval && appliedIndex <= disk.lastIndex()) {
                disk.createSnapshot(appliedIndex, appliedConf, kv.serialize());
            }
        }

        void crash() {
            if (!up) return;
            crashes++;
            up = false;
            incarnation++;
            for (PendingWrite w : pendingWrites.values()) unknown(w.op);
            pendingWrites.clear();
            pendingReads.clear(); // reads have no effect; a lost read simply is not in the history
            readsToServe.clear();
        }

        /** The Ready being persisted, if any: a crash may leave a torn prefix of it on disk. */
        Ready inFlight;
    }

    // ---- the network ----------------------------------------------------------------------

    private static long link(long from, long to) {
        return from << 16 | to;
    }

    private void send(Message m) {
        SimNode sender = nodes.get(m.from());
        if (faultPhase && m instanceof RaftMessage.VoteResponse v && v.granted() && !v.preVote() && rnd.nextInt(100) < rebootAfterVotePercent) {
            crashSoon(sender, 3, 9);
        }
        boolean drop = blocked.contains(link(m.from(), m.to())) || rnd.nextDouble() < lossRate;
        if (drop) {
            if (m instanceof RaftMessage.SnapshotRequest) reportSnapshot(sender, m.to(), false);
            return;
        }
        deliverLater(m, sender);
        if (rnd.nextDouble() < dupRate) deliverLater(m, sender);
    }

    private void deliverLater(Message m, SimNode sender) {
        long delay = rnd.nextInt(100) < longDelayPercent ? rnd.nextLong(10, 150) : rnd.nextLong(1, 8);
        int senderInc = sender.incarnation;
        at(now + delay, () -> {
            SimNode dest = nodes.get(m.to());
            if (dest != null && dest.up && dest.pausedUntil > now) {
                // Queued in the socket until the process resumes; client and peer connections are separate,
                // so after a pause their backlogs are handled in no particular order.
                at(dest.pausedUntil + rnd.nextLong(0, 4), () -> deliverNow(m, sender, senderInc));
                return;
            }
            deliverNow(m, sender, senderInc);
        });
    }

    private void deliverNow(Message m, SimNode sender, int senderInc) {
        SimNode dest = nodes.get(m.to());
        boolean deliverable = dest != null && dest.up && !blocked.contains(link(m.from(), m.to()));
        if (m instanceof RaftMessage.SnapshotRequest) {
            snapshotsSent++;
            if (sender.incarnation == senderInc) reportSnapshot(sender, m.to(), deliverable);
        }
        if (TRACE) System.err.println(now + " " + (deliverable ? "deliver " : "lost ") + m);
        if (!deliverable) return;
        dest.raft.step(m);
        dest.drive();
    }

    private void reportSnapshot(SimNode sender, long to, boolean ok) {
        if (sender.up) {
            sender.raft.reportSnapshot(to, ok);
            sender.drive();
        }
    }

    // ---- clients --------------------------------------------------------------------------

    private final class ClientOp {
        final int client;
        final long opId;
        final KvInput input;
        final long invokeMs;
        boolean done;
        long node;

        ClientOp(int client, KvInput input) {
            this.client = client;
            this.opId = nextOpId++;
            this.input = input;
            this.invokeMs = now;
            if (client >= 0) allOps.add(this);
        }

        String key() {
            return input.key();
        }
    }

    private record PendingWrite(long term, ClientOp op) {}

    private record PendingRead(ClientOp op) {}

    /** The liveness probe: a proposal that must reach every member once faults heal. */
    private final List<ClientOp> allOps = new ArrayList<>();
    private ClientOp marker;
    private final List<ClientOp> markers = new ArrayList<>();
    private SimNode markerNode;
    private boolean markerDone;

    private void startOp(int client) {
        if (!faultPhase) return;
        // Keys rotate every KEY_EPOCH_MS so each key's history stays short: checking is exponential in
        // the concurrency of one key's history, and short histories keep the check decisive.
        String key = "k" + (now / KEY_EPOCH_MS) + "." + rnd.nextInt(keys);
        int r = rnd.nextInt(10);
        KvInput in;
        if (r < 4) in = new KvInput.Put(key, nextValue++);
        else if (r < 7) in = new KvInput.Get(key);
        else in = new KvInput.Cas(key, rnd.nextInt(3) == 0 ? KvModel.ABSENT : Math.max(1, nextValue - 1 - rnd.nextInt(4)), nextValue++);
        var op = new ClientOp(client, in);
        at(now + opTimeoutMs, () -> timeout(op));
        submit(op);
    }

    private void submit(ClientOp op) {
        if (op.done) return;
        var candidates = new ArrayList<SimNode>();
        for (SimNode n : nodes.values()) if (n.up) candidates.add(n);
        if (candidates.isEmpty()) {
            at(now + 20, () -> submit(op));
            return;
        }
        // Clients stick to the member that served them last (as real clients keep a connection), so a
        // client of a deposed leader keeps asking it: exactly where stale reads would show.
        SimNode preferred = nodes.get(clientNode.getOrDefault(op.client, 0L));
        SimNode n = preferred != null && preferred.up && rnd.nextInt(100) < stickyPercent ? preferred : candidates.get(rnd.nextInt(candidates.size()));
        submitTo(op, n);
    }

    private void submitTo(ClientOp op, SimNode n) {
        if (op.done) return;
        if (!n.up) {
            at(now + 1, () -> submit(op));
            return;
        }
        if (n.pausedUntil > now) {
            at(n.pausedUntil + rnd.nextLong(0, 4), () -> submitTo(op, n)); // blocks until the process resumes
            return;
        }
        op.node = n.id;
        ProposeResult res;
        if (op.input instanceof KvInput.Get) {
            res = n.raft.readIndex(ByteBuffer.allocate(8).putLong(op.opId).array());
            if (res instanceof ProposeResult.Accepted) n.pendingReads.put(op.opId, new PendingRead(op));
        } else {
            KvCommand cmd = switch (op.input) {
                case KvInput.Put p -> new KvCommand(KvCommand.Kind.PUT, op.client, op.opId, p.key(), p.value(), 0);
                case KvInput.Cas c -> new KvCommand(KvCommand.Kind.CAS, op.client, op.opId, c.key(), c.expected(), c.next());
                case KvInput.Get g -> throw Assert.unreachable("reads are not proposed");
            };
            res = propose(n, cmd.encode(), op);
        }
        n.drive();
        if (res instanceof ProposeResult.Rejected) at(now + 5 + rnd.nextLong(20), () -> submit(op));
    }

    private ProposeResult propose(SimNode n, byte[] data, ClientOp op) {
        ProposeResult res = n.raft.propose(data);
        if (res instanceof ProposeResult.Accepted a) {
            n.pendingWrites.put(a.index(), new PendingWrite(a.term(), op));
            if (faultPhase && rnd.nextInt(100) < crashAfterProposePercent) crashSoon(n, 3, restartDelayMaxMs);
        }
        return res;
    }

    private void retry(ClientOp op) {
        if (markers.contains(op)) return; // the liveness loop re-proposes markers by itself
        at(now + 1, () -> submit(op));
    }

    private final Map<Integer, Long> clientNode = new HashMap<>();

    private void completeWrite(ClientOp op, KvOutput out) {
        if (op.done) return;
        op.done = true;
        clientNode.put(op.client, op.node);
        opsOk++;
        history.add(new Operation<>(op.client, op.input, out, op.invokeMs, now, Outcome.OK));
        scheduleNext(op.client);
    }

    private void completeRead(ClientOp op, long value) {
        if (op.done) return;
        op.done = true;
        clientNode.put(op.client, op.node);
        opsOk++;
        history.add(new Operation<>(op.client, op.input, new KvOutput.GetResult(value), op.invokeMs, now, Outcome.OK));
        scheduleNext(op.client);
    }

    private void unknown(ClientOp op) {
        if (op.done || markers.contains(op)) return;
        op.done = true;
        if (op.input instanceof KvInput.Get) {
            scheduleNext(op.client); // a read that never returned had no effect: leave it out of the history
            return;
        }
        opsUnknown++;
        history.add(new Operation<>(op.client, op.input, new KvOutput.PutOk(), op.invokeMs, Long.MAX_VALUE, Outcome.UNKNOWN));
        scheduleNext(op.client);
    }

    private void timeout(ClientOp op) {
        if (!op.done) unknown(op);
    }

    private void scheduleNext(int client) {
        at(now + rnd.nextLong(0, 30), () -> startOp(client));
    }

    // ---- faults ---------------------------------------------------------------------------

    private void nemesis() {
        if (!faultPhase) return;
        int r = rnd.nextInt(100);
        if (staleLeader && rnd.nextBoolean()) {
            SimNode l = leader();
            if (l != null) isolate(l.id, rnd.nextLong(300, 1500));
        } else if (r < 12) partitionRandom();
        else if (r < 22) isolateLeader();
        else if (r < 26) asymmetric();
        else if (r < 30) bridge();
        else if (r < 34) heal();
        else if (r < 42) networkWeather();
        else if (r < 54) crashSomeone();
        else if (r < 62) restartSomeone();
        else if (r < 70) networkWeather();
        else if (r < 74) pauseSomeone();
        else if (r < 76) slowDisk();
        else if (r < 80) tickSkew();
        else if (r < 86) transferLeadership();
        else membershipChange();
        at(now + rnd.nextLong(1, 2 * nemesisGapMs), this::nemesis);
    }

    private List<Long> ids() {
        return new ArrayList<>(nodes.keySet());
    }

    /** Each partition lasts a drawn time (often longer than an election), unless a newer one replaces it. */
    private int partitionGeneration;

    private void startPartition() {
        startPartition(rnd.nextLong(partitionMsMin, partitionMsMin * 8));
    }

    private void startPartition(long durationMs) {
        blocked.clear();
        int gen = ++partitionGeneration;
        at(now + durationMs, () -> {
            if (gen == partitionGeneration) blocked.clear();
        });
    }

    private void heal() {
        partitionGeneration++;
        blocked.clear();
    }

    private void partitionRandom() {
        startPartition();
        List<Long> ids = ids();
        var side = new HashMap<Long, Boolean>();
        for (long id : ids) side.put(id, rnd.nextBoolean());
        for (long a : ids) for (long b : ids) if (!side.get(a).equals(side.get(b))) blocked.add(link(a, b));
    }

    private void isolateLeader() {
        SimNode l = leader();
        if (l != null) isolate(l.id);
    }

    private void isolate(long node) {
        isolate(node, rnd.nextLong(partitionMsMin, partitionMsMin * 8));
    }

    private void isolate(long node, long durationMs) {
        startPartition(durationMs);
        for (long o : ids()) {
            if (o == node) continue;
            blocked.add(link(node, o));
            blocked.add(link(o, node));
        }
    }

    private void asymmetric() {
        if (blocked.isEmpty()) startPartition();
        List<Long> ids = ids();
        for (int i = 0; i < 1 + rnd.nextInt(3); i++) {
            long a = ids.get(rnd.nextInt(ids.size())), b = ids.get(rnd.nextInt(ids.size()));
            if (a != b) blocked.add(link(a, b));
        }
    }

    private void bridge() {
        startPartition();
        List<Long> ids = ids();
        long bridge = ids.get(rnd.nextInt(ids.size()));
        var side = new HashMap<Long, Boolean>();
        for (long id : ids) side.put(id, rnd.nextBoolean());
        for (long a : ids) {
            for (long b : ids) {
                if (a == bridge || b == bridge) continue;
                if (!side.get(a).equals(side.get(b))) blocked.add(link(a, b));
            }
        }
    }

    private void crashSomeone() {
        var up = new ArrayList<SimNode>();
        for (SimNode n : nodes.values()) if (n.up) up.add(n);
        if (up.isEmpty()) return;
        SimNode victim = rnd.nextInt(3) == 0 && leader() != null ? leader() : up.get(rnd.nextInt(up.size()));
        crash(victim);
        at(now + rnd.nextLong(1, restartDelayMaxMs + 1), () -> restart(victim));
    }

    /** Crashes {@code n} within {@code withinMs} (a reactive fault) and restarts it up to {@code restartMaxMs} later. */
    private void crashSoon(SimNode n, long withinMs, long restartMaxMs) {
        at(now + rnd.nextLong(0, withinMs), () -> {
            if (!faultPhase) return;
            crash(n);
            at(now + rnd.nextLong(1, restartMaxMs + 1), () -> restart(n));
        });
    }

    /** Crash: the process dies; the disk keeps what was synced plus maybe a torn prefix of the write in flight. */
    private void crash(SimNode n) {
        if (!n.up) return;
        Ready inFlight = n.busy ? n.inFlight : null;
        n.crash();
        n.inFlight = null;
        if (inFlight != null && rnd.nextBoolean()) {
            int k = rnd.nextInt(inFlight.entries().size() + 1);
            boolean hs = k == inFlight.entries().size() && rnd.nextBoolean();
            n.persist(inFlight, k, hs);
        }
    }

    private void restart(SimNode n) {
        if (n.up || !faultPhase) return;
        n.start();
    }

    private void restartSomeone() {
        for (SimNode n : nodes.values()) {
            if (!n.up) {
                n.start();
                return;
            }
        }
    }

    private void networkWeather() {
        lossRate = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble() * 0.15;
        dupRate = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble() * 0.1;
        longDelayPercent = rnd.nextInt(30);
    }

    /** A stop-the-world pause (GC, SIGSTOP) of a member, the leader more often than not. */
    private void pauseSomeone() {
        SimNode l = leader();
        SimNode n = l != null && rnd.nextBoolean() ? l : nodes.get(ids().get(rnd.nextInt(nodes.size())));
        if (n.up) n.pausedUntil = Math.max(n.pausedUntil, now + rnd.nextLong(50, 1000));
    }

    private void slowDisk() {
        SimNode n = nodes.get(ids().get(rnd.nextInt(nodes.size())));
        n.slowDisk = !n.slowDisk;
    }

    private void tickSkew() {
        SimNode n = nodes.get(ids().get(rnd.nextInt(nodes.size())));
        n.tickPeriodMs = TICK_MS * (50 + rnd.nextInt(150)) / 100; // 0.5x to 2x the nominal tick period
    }

    private void transferLeadership() {
        SimNode l = leader();
        if (l == null) return;
        var voters = new ArrayList<>(l.appliedConf.voters());
        long to = voters.get(rnd.nextInt(voters.size()));
        l.raft.transferLeadership(to);
        l.drive();
    }

    private void membershipChange() {
        SimNode l = leader();
        if (l == null) return;
        ConfState cs = l.appliedConf;
        var all = ids();
        long target = all.get(rnd.nextInt(all.size()));
        int r = rnd.nextInt(4);
        ConfChange cc;
        if (r == 0) cc = ConfChange.of(ConfChange.Type.ADD_LEARNER, target);
        else if (r == 1) cc = ConfChange.of(ConfChange.Type.ADD_VOTER, target);
        else if (r == 2 && cs.voters().size() > Math.max(1, foundingVoters - 1)) cc = ConfChange.of(ConfChange.Type.REMOVE, target);
        else if (r == 3 && cs.voters().size() > 1) {
            // Replace one voter by another in a single joint change.
            long out = new ArrayList<>(cs.voters()).get(rnd.nextInt(cs.voters().size()));
            cc = new ConfChange(List.of(new ConfChange.Change(ConfChange.Type.REMOVE, out), new ConfChange.Change(ConfChange.Type.ADD_VOTER, target)), false);
        } else return;
        if (l.raft.proposeConfChange(cc).isAccepted()) confChanges++;
        l.drive();
    }

    private SimNode leader() {
        SimNode best = null;
        for (SimNode n : nodes.values()) {
            if (n.up && n.raft.status().role() == Role.LEADER && (best == null || n.raft.status().term() > best.raft.status().term())) best = n;
        }
        return best;
    }

    // ---- liveness -------------------------------------------------------------------------

    private void livenessPhase() {
        faultPhase = false;
        blocked.clear();
        lossRate = 0;
        dupRate = 0;
        longDelayPercent = 0;
        for (SimNode n : nodes.values()) {
            n.slowDisk = false;
            n.tickPeriodMs = TICK_MS;
            n.pausedUntil = Math.min(n.pausedUntil, now);
            if (!n.up) n.start();
        }
        long deadline = now + LIVENESS_DEADLINE_MS;
        long nextCheck = now;
        while (now < deadline) {
            if (queue.isEmpty()) throw new SimViolation("liveness: no events left");
            processOne();
            if (events % 4096 == 0) checkLogMatching();
            if (now >= nextCheck) {
                nextCheck = now + 50;
                if (converged()) {
                    checkLogMatching();
                    return;
                }
            }
        }
        throw new SimViolation("liveness: no progress " + LIVENESS_DEADLINE_MS + " ms after all faults healed: " + describe());
    }

    /** A leader of the current configuration exists and a fresh proposal reached every member. */
    private boolean converged() {
        SimNode l = leader();
        if (l == null || !l.appliedConf.isVoter(l.id)) return false;
        if (!markerDone && (markerNode != l || !l.up || !isPendingAt(l, marker))) {
            // No probe in flight at the current leader (never proposed, lost, or stuck at a deposed
            // leader): propose one here. Any probe that reaches every member proves liveness.
            marker = new ClientOp(-1, new KvInput.Put("__marker", 0));
            markers.add(marker);
            markerNode = l;
            propose(l, new KvCommand(KvCommand.Kind.MARKER, -1, marker.opId, "__marker", 0, 0).encode(), marker);
            l.drive();
            return false;
        }
        if (!markerDone) return false;
        long target = l.appliedIndex;
        for (long m : l.appliedConf.allMembers()) {
            SimNode n = nodes.get(m);
            if (n == null || !n.up || n.appliedIndex < target) return false;
        }
        return true;
    }

    /** True if {@code op} was proposed at {@code n} in its current term (an older term's proposal may never resolve). */
    private boolean isPendingAt(SimNode n, ClientOp op) {
        long term = n.raft.status().term();
        for (PendingWrite w : n.pendingWrites.values()) if (w.op == op && w.term == term) return true;
        return false;
    }

    private void checkLogMatching() {
        var up = new ArrayList<SimNode>();
        for (SimNode n : nodes.values()) if (n.up) up.add(n);
        for (int i = 0; i < up.size(); i++) for (int j = i + 1; j < up.size(); j++) SafetyChecker.checkLogMatching(up.get(i).raft, up.get(j).raft);
    }

    private String describe() {
        var sb = new StringBuilder();
        sb.append("marker=").append(marker == null ? "none" : marker.opId + "@" + markerNode.id).append(" done=").append(markerDone);
        for (SimNode n : nodes.values()) {
            sb.append("\n  node ").append(n.id).append(n.up ? " up " : " down ").append(n.raft.status()).append(" applied=").append(n.appliedIndex)
                    .append(" pendingWrites=").append(n.pendingWrites.keySet()).append(" progress=").append(n.raft.progressView());
        }
        return sb.toString();
    }

    private String checkLinearizability() {
        // A write still outstanding when the run ends may already be visible to readers.
        for (ClientOp op : allOps) if (!op.done) unknown(op);
        if (history.isEmpty()) return "EMPTY";
        CheckResult r = LinearizabilityChecker.check(new KvModel(), history, CHECK_TIMEOUT_MS);
        return r.verdict() == Verdict.LINEARIZABLE ? "LINEARIZABLE" : r.verdict() + " " + r.explanation();
    }
}
