package io.synod.replica;

import io.synod.common.Assert;
import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.ConsensusNode;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.ReadState;
import io.synod.consensus.Ready;
import io.synod.consensus.Role;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SoftState;
import io.synod.consensus.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Drives one consensus member: one thread at a time owns the {@link ConsensusNode}, drains a
 * bounded inbox (ticks, peer messages, proposals, reads) in batches, and handles every {@link Ready}
 * in the order the protocol requires: persist (one flush) → send → apply committed entries → serve
 * read states that are now applied → advance. Other threads enqueue and read a few volatile facts
 * (leader, term, applied index). It owns no thread: the caller runs {@link #run()} on one of its
 * own and feeds {@link #tick()} from a timer, which keeps this class free of clocks and usable
 * under a simulated scheduler.
 *
 * <p>Passes. The loop's work comes in passes (drain the inbox, then handle every Ready), run under
 * one lock by whichever thread holds it. Normally that is the loop thread. A producer that queues
 * with {@link Handoff#RUN_HERE} and finds no pass running runs one itself: on a lightly loaded
 * member the thread that read a peer's message or a client's request carries it through the core,
 * the fsync and the sends, instead of waking the loop thread for it. Waking a parked thread costs
 * 40 to 80 us on this project's 2-core test machine, and a write at one client crossed three such
 * wake-ups. Only a lightly loaded member lets producers run passes (no proposal, read or unapplied
 * entry in flight, and idle at least as long as its last pass took): under load the loop thread gathers many
 * producers' events into one Ready and one fsync. A producer's
 * pass is one pass only; whatever is queued after it, and any Ready that installs a snapshot or a
 * due log compaction, is handed to the loop thread.
 *
 * <p>Proposals complete when the entry at the (term, index) the core accepted them at is applied,
 * with the state machine's result; if that index is applied with another term the proposal was
 * lost to a leader change and fails with {@link ReplicaException.Kind#LEADER_CHANGED} (never
 * silently dropped). Reads complete with their read index once the state machine has applied it.
 * Membership changes in committed entries are handed back to the core as they are applied, also
 * when replaying entries the state machine already holds after a restart, which is how the core
 * rebuilds its membership from the log.
 *
 * <p>Snapshots. Every {@link SnapshotPolicy#snapshotCount()} applied entries the driver flushes the
 * state machine and compacts the log up to the durable index minus the catch-up entries, recording
 * the membership in force at that index (kept per conf-change index since the last compaction).
 * A Ready carrying a snapshot from the leader is installed into the state machine <em>before</em>
 * it is persisted in the log, so a crash in between leaves the state machine ahead of the log
 * (harmless: replayed entries it already holds are skipped), never the log ahead of the state.
 * Sending a snapshot is the transport's job; it reports the outcome with {@link #reportSnapshot}.
 */
public final class ReplicaDriver implements Runnable {
    private sealed interface Event {}

    private record Tick() implements Event {}

    private record Step(Message message) implements Event {}

    /**
     * {@code queuedAt}: when it was queued, for the {@link EntryTracer} (0 when tracing is off);
     * {@code term}: 0 for any term, else the proposal is refused unless the core is in that term when the loop gets to it.
     */
    private record Propose(byte[] data, CompletableFuture<Object> future, long queuedAt, long term) implements Event {}

    private record ProposeConf(ConfChange change, CompletableFuture<Object> future) implements Event {}

    private record Read(CompletableFuture<Long> future) implements Event {}

    /** A proposal another member forwarded: the core's immediate answer goes to {@code answer}, on the loop. */
    private record ProposeFor(byte[] data, Consumer<ProposeResult> answer) implements Event {}

    /** Waits for the entry the leader appended at (term, index) for a proposal this member forwarded. */
    private record Await(long term, long index, CompletableFuture<Object> future) implements Event {}

    private record Unreachable(long peer) implements Event {}

    private record Transfer(long transferee, CompletableFuture<ProposeResult> future) implements Event {}

    private record Stop() implements Event {}

    private record SnapshotReport(long peer, boolean success) {}

    /**
     * How a producer hands an event to the loop. {@link #RUN_HERE} and {@link #DEFER} are for
     * callers that hold no lock which applying entries may take (the state machine's, a
     * listener's), and that may spend an fsync's time: a transport thread that just read the
     * event, say. Anyone may use {@link #WAKE}.
     */
    public enum Handoff {
        /** Queue the event and wake the loop thread. */
        WAKE,
        /** Queue the event; if no pass is running, run one on this thread (else the running pass's owner sees it). */
        RUN_HERE,
        /** Queue the event only; the caller calls {@link #runPending()} once it has queued the rest of its batch. */
        DEFER
    }

    private record PendingProposal(long term, CompletableFuture<Object> future) {}

    /** A read handed to the core while {@code leader} led (as this member saw it). */
    /** One read index asked of the core, on behalf of every read gathered in one pass over the inbox. */
    private record IssuedRead(long leader, List<CompletableFuture<Long>> futures) {
        void fail(ReplicaException e) {
            for (CompletableFuture<Long> f : futures) f.completeExceptionally(e);
        }
    }

    private static final Tick TICK = new Tick();

    /** Held by whichever thread runs a pass: the loop thread, or a producer (see {@link Handoff#RUN_HERE}). */
    private final ReentrantLock turn = new ReentrantLock();
    /** The thread running {@link #run()}, once it started; producers run passes only after that. */
    private volatile Thread loopThread;
    /** Set (under {@link #turn}) when a producer's pass left work only the loop thread does; cleared by it. */
    private volatile boolean handoff;
    /**
     * No proposal, no read and no unapplied entry at this member, as of the last pass. Only then may a producer
     * run a pass: under load the loop thread gathers what many producers queue into one Ready (one
     * fsync), where passes of their own would each write a Ready, and hold a transport thread while
     * doing so.
     */
    private volatile boolean quiet = true;
    /** When the last pass ended, and how long it took (System.nanoTime); see {@link #lightlyLoaded}. */
    private volatile long lastPassEndNanos;
    private volatile long lastPassNanos;
    /** Wraps a producer's pass, e.g. to detach the caller's request context; set before {@link #run()}. */
    private Consumer<Runnable> aroundProducerPass = Runnable::run;

    private final ConsensusNode node;
    private final ReplicaStorage storage;
    private final ReplicaTransport transport;
    private final StateMachine stateMachine;
    private final ReplicaLimits limits;
    private final ArrayBlockingQueue<Event> inbox;
    /**
     * Events in the inbox that are not {@link #cheap}: counted up after an offer and down as a pass
     * drains them, so it may lag the inbox for a moment (and dip below zero) but never drifts.
     */
    private final java.util.concurrent.atomic.AtomicInteger costlyQueued = new java.util.concurrent.atomic.AtomicInteger();
    private final SnapshotPolicy snapshotPolicy;
    /**
     * Outcomes of snapshot sends. Separate from the inbox because one must never be dropped: the
     * leader keeps the follower paused until it hears it. Bounded by the sends in progress.
     */
    private final ConcurrentLinkedQueue<SnapshotReport> snapshotReports = new ConcurrentLinkedQueue<>();

    // Pass state: touched only by the thread holding {@link #turn}.
    /** A Ready a producer's pass took but left to the loop thread (it installs a snapshot); handled first. */
    private Ready deferred;
    private final List<Event> batch = new ArrayList<>();
    /** Accepted proposals by log index. */
    private final TreeMap<Long, PendingProposal> proposals = new TreeMap<>();
    /** Reads sent to the core, by request context (a sequence number). */
    private final Map<Long, IssuedRead> readsIssued = new HashMap<>();
    /** Reads that have a read index, waiting for the apply to reach it (index order not guaranteed). */
    private final List<Map.Entry<Long, CompletableFuture<Long>>> readsWaiting = new ArrayList<>();
    private long readSeq;
    /** Reads taken from the inbox in this pass, not yet asked of the core: they share one read index. */
    private final List<CompletableFuture<Long>> readsGathered = new ArrayList<>();
    /** Reads in {@link #readsIssued}, counted one by one (the map counts batches). */
    private int readsIssuedCount;
    // Invariant: appliedIndex only grows; entries at or below it are in the state machine.
    private long appliedIndex;
    /**
     * Last log index handed to the core as applied (entries, or an installed snapshot's index).
     * Invariant: logAppliedIndex <= appliedIndex; it trails only while replaying entries the state
     * machine already holds (after a restart or a snapshot install).
     */
    private long logAppliedIndex;
    /**
     * The last index of this member's log as written durably by earlier Readies (the log as loaded at
     * start, then each Ready's last entry or installed snapshot). Entries at or below it, committed and
     * not rewritten by the current Ready, may be applied before that Ready is persisted.
     */
    private long persistedLastIndex;
    /** logAppliedIndex when the log was last compacted (or at start): counts toward the snapshot count. */
    private long lastSnapshotTriggerIndex;
    /**
     * Membership after each applied conf change since the last compaction point, by index; the
     * lowest key is that point. The floor entry of an index is the membership in force there.
     */
    private final TreeMap<Long, ConfState> confHistory = new TreeMap<>();
    private volatile boolean stopped;

    // Published for other threads.
    private volatile long leader = SoftState.NO_LEADER;
    private volatile Role role = Role.FOLLOWER;
    private volatile long term;
    private volatile long publishedAppliedIndex;
    private volatile Throwable failure;
    /** The core's status after the last Ready (commit index, membership), for operators. */
    private volatile Status status;
    private volatile int publishedPendingProposals;
    private volatile ReplicaListener listener = ReplicaListener.NONE;
    private volatile EntryTracer tracer = EntryTracer.OFF;

    public ReplicaDriver(ConsensusNode node, ReplicaStorage storage, ReplicaTransport transport, StateMachine stateMachine,
            ReplicaLimits limits) {
        this(node, storage, transport, stateMachine, limits, SnapshotPolicy.DEFAULTS);
    }

    public ReplicaDriver(ConsensusNode node, ReplicaStorage storage, ReplicaTransport transport, StateMachine stateMachine,
            ReplicaLimits limits, SnapshotPolicy snapshotPolicy) {
        this.node = node;
        this.snapshotPolicy = snapshotPolicy;
        this.storage = storage;
        this.transport = transport;
        this.stateMachine = stateMachine;
        this.limits = limits;
        this.inbox = new ArrayBlockingQueue<>(limits.inboxDepthMax());
        this.appliedIndex = stateMachine.appliedIndex();
        this.publishedAppliedIndex = appliedIndex;
        this.term = node.status().term();
        // The core starts from the log's snapshot: its applied index and membership are the snapshot's.
        this.logAppliedIndex = node.status().appliedIndex();
        this.lastSnapshotTriggerIndex = logAppliedIndex;
        this.persistedLastIndex = node.status().lastIndex();
        this.confHistory.put(logAppliedIndex, node.status().confState());
        Assert.that(logAppliedIndex == storage.snapshotIndex(), "core starts at %d but the log's snapshot is at %d",
                logAppliedIndex, storage.snapshotIndex());
        this.status = node.status();
    }

    /** Proposals accepted by the core and not yet applied, as of the last handled Ready. */
    public int pendingProposals() {
        return publishedPendingProposals;
    }

    /**
     * Sets what runs around every pass a producer runs on its own thread (see {@link Handoff}),
     * for instance detaching the request context the producer's thread carries, so that calls made
     * from completions do not inherit it. Call it before {@link #run()} starts.
     */
    public void aroundProducerPass(Consumer<Runnable> around) {
        this.aroundProducerPass = around;
    }

    /** Where sampled entries' passage through this member is recorded ({@link EntryTracer#OFF} by default). */
    public void tracer(EntryTracer tracer) {
        this.tracer = tracer;
    }

    public EntryTracer tracer() {
        return tracer;
    }

    /** Sets the observer of the loop (metrics, logs); call it before {@link #run()} starts. */
    public void listener(ReplicaListener listener) {
        this.listener = listener;
    }

    /** The core's status as of the last handled Ready: commit index, membership (ConfState), role. */
    public Status status() {
        return status;
    }

    public long id() {
        return node.id();
    }

    /** The leader this member knows of, or {@link SoftState#NO_LEADER}. */
    public long leader() {
        return leader;
    }

    public Role role() {
        return role;
    }

    public long term() {
        return term;
    }

    public long appliedIndex() {
        return publishedAppliedIndex;
    }

    /** The error that stopped the loop, if one did (a disk failure: the process must restart). */
    public Throwable failure() {
        return failure;
    }

    // ---- producers (any thread) --------------------------------------------------------------

    /** Advances logical time by one tick; dropped when the inbox is full (the next one will do). */
    public void tick() {
        enqueue(TICK, Handoff.WAKE);
    }

    /** Delivers a peer's message; dropped when the inbox is full (Raft retransmits). */
    public boolean deliver(Message message) {
        return deliver(message, Handoff.WAKE);
    }

    /** As {@link #deliver(Message)}, handed over as {@code how} says. */
    public boolean deliver(Message message, Handoff how) {
        EntryTracer t = tracer;
        if (t.enabled()) t.mark(message.traceIndex(), message.appendsEntries() ? EntryTracer.Point.RECEIVED : EntryTracer.Point.ACK_RECEIVED);
        return enqueue(new Step(message), how);
    }

    public void reportUnreachable(long peer) {
        enqueue(new Unreachable(peer), Handoff.WAKE);
    }

    /**
     * Tells the core how sending a snapshot to {@code peer} ended; never dropped (the leader keeps
     * that follower paused until it hears), handled at the loop's next iteration.
     */
    public void reportSnapshot(long peer, boolean success) {
        snapshotReports.add(new SnapshotReport(peer, success));
        LockSupport.unpark(loopThread);
    }

    /** Proposes a command; the future completes with the state machine's result once it is applied here. */
    public CompletableFuture<Object> propose(byte[] command) {
        return propose(command, Handoff.WAKE);
    }

    /** As {@link #propose(byte[])}, handed over as {@code how} says. */
    public CompletableFuture<Object> propose(byte[] command, Handoff how) {
        return propose(command, how, 0);
    }

    /**
     * As {@link #propose(byte[], Handoff)}, but only in {@code term}: when the loop gets to it, a core
     * in any other term refuses it with NOT_LEADER. For a decision a leader took in that term (a
     * lease expiry) that must not be appended by the same member leading a later term, when what it
     * was based on may have changed in between.
     */
    public CompletableFuture<Object> proposeInTerm(byte[] command, Handoff how, long term) {
        Assert.that(term > 0, "a term-fenced proposal needs a term, got %d", term);
        return propose(command, how, term);
    }

    private CompletableFuture<Object> propose(byte[] command, Handoff how, long term) {
        var f = new CompletableFuture<Object>();
        if (stopped) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED, "replica stopped"));
        } else if (!enqueue(new Propose(command, f, tracer.enabled() ? System.nanoTime() : 0, term), how)) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED, "replica inbox full (" + limits.inboxDepthMax() + ")"));
        }
        return f;
    }

    /**
     * Proposes a command forwarded by another member (the leader's side of forwarding through the
     * peer stream). {@code answer} receives the core's immediate answer on the loop thread, before
     * the loop handles the Ready that carries the new entry, so a message sent from it reaches the
     * forwarding member ahead of the appends with the entry. Returns false, without calling
     * {@code answer}, when the inbox is full or the replica stopped (nothing was proposed).
     */
    public boolean proposeFor(byte[] command, Consumer<ProposeResult> answer, Handoff how) {
        return !stopped && enqueue(new ProposeFor(command, answer), how);
    }

    /**
     * Completes with the state machine's result once the entry at (term, index) is applied here,
     * like {@link #propose}'s future: the forwarding side, once the leader answered Accepted(term,
     * index). Fails with LEADER_CHANGED if another entry is applied at that index, and with
     * STOPPED (outcome unknown) if the entry was already applied before the call arrived.
     */
    public CompletableFuture<Object> awaitEntry(long term, long index, Handoff how) {
        var f = new CompletableFuture<Object>();
        if (stopped) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED, "replica stopped"));
        } else if (!enqueue(new Await(term, index, f), how)) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED,
                    "outcome unknown: replica inbox full (" + limits.inboxDepthMax() + ") when the leader's answer for index " + index + " arrived"));
        }
        return f;
    }

    /**
     * Proposes a membership change (joint consensus in the core); the future completes when its
     * entry is applied here, after the state machine has seen it with its context. The core holds
     * at most one change pending: another one is refused with {@link ReplicaException.Kind#REJECTED}
     * ({@code CONF_CHANGE_PENDING}) until the previous one (and its automatic leave) is applied.
     */
    public CompletableFuture<Object> proposeConfChange(ConfChange change) {
        var f = new CompletableFuture<Object>();
        if (stopped) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED, "replica stopped"));
        } else if (!enqueue(new ProposeConf(change, f), Handoff.WAKE)) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED, "replica inbox full (" + limits.inboxDepthMax() + ")"));
        }
        return f;
    }

    /** Obtains a linearizable read point; the future completes with it once it is applied here. */
    public CompletableFuture<Long> readIndex() {
        return readIndex(Handoff.WAKE);
    }

    /** As {@link #readIndex()}, handed over as {@code how} says. */
    public CompletableFuture<Long> readIndex(Handoff how) {
        var f = new CompletableFuture<Long>();
        if (stopped) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED, "replica stopped"));
        } else if (!enqueue(new Read(f), how)) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED, "replica inbox full (" + limits.inboxDepthMax() + ")"));
        }
        return f;
    }

    /**
     * Asks the core to hand leadership to {@code transferee} (TimeoutNow once it is caught up). The
     * future completes with the core's answer: Accepted means the transfer started (or the
     * transferee already leads), not that it finished; the caller watches {@link #leader()}.
     */
    public CompletableFuture<ProposeResult> transferLeadership(long transferee) {
        var f = new CompletableFuture<ProposeResult>();
        if (stopped) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED, "replica stopped"));
        } else if (!enqueue(new Transfer(transferee, f), Handoff.WAKE)) {
            f.completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED, "replica inbox full (" + limits.inboxDepthMax() + ")"));
        }
        return f;
    }

    /** Asks the loop to finish after the events already queued; pending requests fail with STOPPED. */
    public void stop() {
        stopped = true;
        enqueue(new Stop(), Handoff.WAKE);
        LockSupport.unpark(loopThread); // also if the inbox was full
    }

    private boolean enqueue(Event e, Handoff how) {
        if (!inbox.offer(e)) return false;
        if (!cheap(e)) costlyQueued.incrementAndGet();
        switch (how) {
            case WAKE -> LockSupport.unpark(loopThread);
            case RUN_HERE -> runPending();
            case DEFER -> { }
        }
        return true;
    }

    /**
     * Runs one pass on the calling thread if events are queued and no pass is running; otherwise
     * leaves them to the thread running one, which looks at the inbox again when it ends. For
     * callers that queued with {@link Handoff#DEFER}, under the same conditions as
     * {@link Handoff#RUN_HERE}. A call from inside a pass (a completion that queues more) returns
     * at once: that pass's owner sees the new events.
     */
    public void runPending() {
        Thread loop = loopThread;
        if (loop == null) return; // not started: run() finds the inbox as it is
        if (turn.isHeldByCurrentThread()) return;
        if (!lightlyLoaded() && !onlyCheapEventsQueued()) {
            LockSupport.unpark(loop);
            return;
        }
        if (!turn.tryLock()) return;
        try {
            aroundProducerPass.accept(this::producerPass);
        } finally {
            turn.unlock();
        }
        // Looked at after the unlock: a producer whose tryLock failed while this pass ran relies on it.
        if (!idle()) LockSupport.unpark(loop);
    }

    /**
     * Whether a producer may run a pass: nothing is in flight at this member, and it has been idle at
     * least as long as its last pass took. A follower under load gets the leader's appends back to
     * back; passes of their own on the transport thread would write each frame with an fsync of
     * its own, where the loop thread writes everything queued during one fsync with the next.
     */
    private boolean lightlyLoaded() {
        return quiet && System.nanoTime() - lastPassEndNanos >= lastPassNanos;
    }

    /**
     * Whether every queued event is a message that adds nothing to this member's log (an
     * acknowledgement, a heartbeat), with no work handed to the loop thread. A pass over them
     * flushes no entries, so running it on the producer's thread takes no batching from the loop:
     * it only commits, applies and answers. This is what lets a leader's commit of a write, which
     * arrives as a follower's acknowledgement while that write is in flight (so the member is not
     * lightly loaded), skip waking the loop thread. A racing proposal (or one whose count has not
     * caught up yet) may still join the pass; it is then flushed there, as in any producer pass.
     */
    private boolean onlyCheapEventsQueued() {
        // handoff is set whenever a deferred Ready or a compaction waits for the loop thread.
        return !handoff && costlyQueued.get() <= 0 && !inbox.isEmpty();
    }

    /** A message that adds nothing to this member's log; see {@link #onlyCheapEventsQueued}. */
    private static boolean cheap(Event e) {
        return e instanceof Step step && !step.message().appendsEntries();
    }

    private void producerPass() {
        try {
            pass(false);
        } catch (RuntimeException | Error e) {
            // The loop thread reports it and fails what is pending, as if it had failed there itself.
            failure = e;
            stopped = true;
        }
    }

    /** Nothing for a pass to do: no event, no snapshot outcome, nothing handed to the loop thread. */
    private boolean idle() {
        return inbox.isEmpty() && snapshotReports.isEmpty() && !handoff && !stopped;
    }

    // ---- the loop (one thread) ---------------------------------------------------------------

    @Override
    public void run() {
        Assert.that(loopThread == null, "the loop of member %d runs already on %s", node.id(), loopThread);
        loopThread = Thread.currentThread();
        long idleNanos = TimeUnit.MILLISECONDS.toNanos(limits.idlePollMillis());
        try {
            while (!stopped) {
                if (idle()) LockSupport.parkNanos(this, idleNanos);
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    break;
                }
                turn.lock();
                try {
                    pass(true);
                } finally {
                    turn.unlock();
                }
            }
            // A producer's pass that failed stopped the loop: report its error from here, as the loop's own.
            Throwable f = failure;
            if (f instanceof RuntimeException r) throw r;
            if (f instanceof Error err) throw err;
        } catch (RuntimeException | Error e) {
            failure = e;
            throw e;
        } finally {
            stopped = true;
            turn.lock();
            try {
                failAll();
            } finally {
                turn.unlock();
            }
        }
    }

    /**
     * One pass, by the thread holding {@link #turn}: up to {@code drainBatchMax} events from the
     * inbox, snapshot outcomes, then every Ready the core has. A producer's pass ({@code onLoop}
     * false) leaves the slow work to the loop thread: a Ready that installs a snapshot (it may take
     * seconds) and log compaction.
     */
    private void pass(boolean onLoop) {
        if (stopped) return;
        long start = System.nanoTime();
        try {
            passTimed(onLoop);
        } finally {
            long end = System.nanoTime();
            lastPassNanos = end - start;
            lastPassEndNanos = end;
        }
    }

    private void passTimed(boolean onLoop) {
        if (deferred != null) {
            if (!onLoop) return;
            Ready rd = deferred;
            deferred = null;
            handleReady(rd);
        }
        if (onLoop) handoff = false;
        inbox.drainTo(batch, limits.drainBatchMax());
        int costly = 0;
        for (Event e : batch) {
            if (!cheap(e)) costly++;
            handle(e);
        }
        if (costly > 0) costlyQueued.addAndGet(-costly); // after a throw the member stops, and the count no longer matters
        batch.clear(); // only now: if handling threw, failAll still finds the rest
        issueGatheredReads();
        SnapshotReport report;
        while ((report = snapshotReports.poll()) != null) node.reportSnapshot(report.peer(), report.success());
        while (!stopped && node.hasReady()) {
            Ready rd = node.ready();
            if (!onLoop && !rd.snapshot().isEmpty()) {
                deferred = rd;
                handoff = true;
                return;
            }
            handleReady(rd);
        }
        if (onLoop) maybeCompact();
        else if (compactionDue()) handoff = true;
        // Entries in the log but not applied are writes in flight, also those no proposal here waits for (a leader's
        // forwarded writes, a follower's appends).
        quiet = proposals.isEmpty() && readsIssuedCount == 0 && readsWaiting.isEmpty() && readsGathered.isEmpty()
                && persistedLastIndex <= logAppliedIndex;
    }

    private void handle(Event e) {
        switch (e) {
            case Tick t -> node.tick();
            case Step s -> node.step(s.message());
            case Propose p -> onPropose(p);
            case ProposeConf p -> onProposeConf(p);
            case Read r -> onRead(r);
            case ProposeFor p -> onProposeFor(p);
            case Await a -> onAwait(a);
            case Unreachable u -> node.reportUnreachable(u.peer());
            case Transfer t -> t.future().complete(node.transferLeadership(t.transferee()));
            case Stop s -> stopped = true;
        }
    }

    private void onPropose(Propose p) {
        if (proposals.size() >= limits.pendingProposalsMax()) {
            p.future().completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED,
                    "pending proposals at limit " + limits.pendingProposalsMax()));
            return;
        }
        if (p.term() != 0) {
            long now = node.status().term();
            if (now != p.term()) {
                p.future().completeExceptionally(new ReplicaException(ReplicaException.Kind.NOT_LEADER,
                        "proposal for term " + p.term() + " reached the core in term " + now));
                return;
            }
        }
        ProposeResult result = node.propose(p.data());
        if (result instanceof ProposeResult.Accepted a && tracer.sampled(a.index())) {
            tracer.mark(a.index(), EntryTracer.Point.PROPOSED, p.queuedAt());
            tracer.mark(a.index(), EntryTracer.Point.APPENDED);
        }
        accepted(result, p.future());
    }

    private void onProposeFor(ProposeFor p) {
        ProposeResult result = node.propose(p.data());
        if (!result.isAccepted()) listener.proposalFailed();
        // On the loop, before this iteration's Ready: an answer sent now leaves ahead of the appends carrying the entry.
        p.answer().accept(result);
    }

    private void onAwait(Await a) {
        if (a.index() <= logAppliedIndex) {
            // Only if the answer overtook the entry (a reconnect between the two): the result is gone, the entry may be ours.
            a.future().completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED,
                    "outcome unknown: the entry at " + a.index() + " was applied here before the leader's answer arrived"));
            return;
        }
        PendingProposal old = proposals.put(a.index(), new PendingProposal(a.term(), a.future()));
        if (old != null) {
            // Two proposals cannot both be at one index: the older one (from an earlier term) was replaced.
            Assert.that(old.term() != a.term(), "two proposals wait for index %d of term %d", a.index(), a.term());
            old.future().completeExceptionally(lost(a.index()));
            listener.proposalFailed();
        }
    }

    private void onProposeConf(ProposeConf p) {
        if (proposals.size() >= limits.pendingProposalsMax()) {
            p.future().completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED,
                    "pending proposals at limit " + limits.pendingProposalsMax()));
            return;
        }
        accepted(node.proposeConfChange(p.change()), p.future());
    }

    /** Tracks an accepted proposal until its index is applied, or fails a rejected one at once. */
    private void accepted(ProposeResult result, CompletableFuture<Object> future) {
        switch (result) {
            case ProposeResult.Accepted a -> {
                PendingProposal old = proposals.put(a.index(), new PendingProposal(a.term(), future));
                if (old != null) {
                    old.future().completeExceptionally(lost(a.index()));
                    listener.proposalFailed();
                }
            }
            case ProposeResult.Rejected r -> {
                future.completeExceptionally(rejection(r));
                listener.proposalFailed();
            }
        }
    }

    private void onRead(Read r) {
        if (readsGathered.size() + readsIssuedCount + readsWaiting.size() >= limits.pendingReadsMax()) {
            r.future().completeExceptionally(new ReplicaException(ReplicaException.Kind.OVERLOADED,
                    "pending reads at limit " + limits.pendingReadsMax()));
            return;
        }
        readsGathered.add(r.future());
    }

    /**
     * Asks the core for one read index on behalf of every read gathered in this pass over the
     * inbox. Each of them arrived before the request is made, so the index it returns is a valid
     * read point for all (as etcd batches its ReadIndex requests). On a follower this is one
     * request to the leader and one answer instead of one pair per read.
     */
    private void issueGatheredReads() {
        if (readsGathered.isEmpty()) return;
        var futures = List.copyOf(readsGathered);
        long seq = ++readSeq;
        switch (node.readIndex(ByteBuffer.allocate(Long.BYTES).putLong(seq).array())) {
            case ProposeResult.Accepted a -> {
                // Tagged with the core's leader now: messages of this pass may have changed it since the last Ready.
                readsIssued.put(seq, new IssuedRead(node.leader(), futures));
                readsIssuedCount += futures.size();
            }
            case ProposeResult.Rejected rej -> {
                for (CompletableFuture<Long> f : futures) f.completeExceptionally(rejection(rej));
            }
        }
        readsGathered.clear(); // only now: if the core threw, failAll still finds them
    }

    private IssuedRead takeIssued(byte[] context) {
        IssuedRead r = readsIssued.remove(ByteBuffer.wrap(context).getLong());
        if (r != null) readsIssuedCount -= r.futures().size();
        return r;
    }

    /** The failure a caller sees for a proposal the core refused (also for refusals another member's core gave). */
    public static ReplicaException rejection(ProposeResult.Rejected r) {
        return switch (r.reason()) {
            case NOT_LEADER, NO_LEADER, TRANSFERRING -> new ReplicaException(ReplicaException.Kind.NOT_LEADER,
                    r.reason() == ProposeResult.Reason.NOT_LEADER ? r.leaderHint() : SoftState.NO_LEADER, r.reason() + ": " + r.detail());
            case OVERLOADED -> new ReplicaException(ReplicaException.Kind.OVERLOADED, r.detail());
            default -> new ReplicaException(ReplicaException.Kind.REJECTED, r.reason() + ": " + r.detail());
        };
    }

    private static ReplicaException lost(long index) {
        return new ReplicaException(ReplicaException.Kind.LEADER_CHANGED, "entry at index " + index + " was replaced by another leader's");
    }

    private void handleReady(Ready rd) {
        boolean leaderChanged = rd.softState().leader() != leader;
        leader = rd.softState().leader();
        role = rd.softState().role();
        if (!rd.hardState().isEmpty()) term = rd.hardState().term();
        if (leaderChanged) listener.leaderChanged(leader, term);
        // Committed entries this member's log already holds durably are applied before this Ready's own disk
        // write: their replies need not wait for the fsync of newer entries (etcd applies concurrently with its
        // WAL write for the same reason). Under load this takes one fsync out of every write's latency.
        List<Entry> committed = rd.committedEntries();
        int early = rd.snapshot().isEmpty() ? durableCommitted(rd) : 0;
        // A Ready that writes no entries is typically the acknowledgement that commits a write: its early
        // messages are the commit index going out, with no disk write of this member's to overlap, so the
        // writes' answers go first (at one client the two sends took about 40 us ahead of the answer).
        boolean writesEntries = !rd.entries().isEmpty() || !rd.snapshot().isEmpty();
        if (!writesEntries) applyAll(committed.subList(0, early));
        // A leader's appends leave before its own fsync: the two disk writes of a commit overlap.
        if (!rd.earlyMessages().isEmpty()) {
            transport.send(rd.earlyMessages());
            traceEntries(rd.entries(), EntryTracer.Point.SENT);
        }
        // The state first, then the log: a crash in between must not leave a log whose entries before
        // the snapshot are gone while the state machine still lacks them.
        if (!rd.snapshot().isEmpty()) installSnapshot(rd.snapshot());
        if (writesEntries) applyAll(committed.subList(0, early));
        traceEntries(rd.entries(), EntryTracer.Point.WRITING);
        try {
            storage.persist(rd);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist Ready; stopping this member", e);
        }
        if (!rd.snapshot().isEmpty()) persistedLastIndex = rd.snapshot().meta().index();
        if (!rd.entries().isEmpty()) persistedLastIndex = rd.entries().get(rd.entries().size() - 1).index();
        traceEntries(rd.entries(), EntryTracer.Point.PERSISTED);
        if (!rd.messages().isEmpty()) {
            transport.send(rd.messages());
            if (tracer.enabled()) {
                for (Message m : rd.messages()) {
                    if (!m.appendsEntries()) tracer.mark(m.traceIndex(), EntryTracer.Point.ACKED);
                }
            }
        }
        applyAll(committed.subList(early, committed.size()));
        publishedAppliedIndex = appliedIndex;
        for (ReadState rs : rd.readStates()) {
            IssuedRead r = takeIssued(rs.requestContext());
            if (r != null) {
                for (CompletableFuture<Long> f : r.futures()) readsWaiting.add(Map.entry(rs.index(), f));
            }
        }
        for (byte[] ctx : rd.readsAborted()) {
            IssuedRead r = takeIssued(ctx);
            if (r != null) r.fail(new ReplicaException(ReplicaException.Kind.READ_ABORTED, "leadership lost before the read was confirmed"));
        }
        serveReads();
        node.advance(rd);
        status = node.status();
        publishedPendingProposals = proposals.size();
        if (leaderChanged) abortReadsOfOtherLeaders();
    }

    /**
     * How many of the Ready's committed entries (a prefix) are durable in this member's log from
     * earlier Readies: at or below what was persisted before, and below the first entry this Ready
     * writes (a follower may overwrite from there). Only they may be applied before the persist.
     */
    private int durableCommitted(Ready rd) {
        long limit = persistedLastIndex;
        if (!rd.entries().isEmpty()) limit = Math.min(limit, rd.entries().get(0).index() - 1);
        List<Entry> committed = rd.committedEntries();
        int n = 0;
        while (n < committed.size() && committed.get(n).index() <= limit) n++;
        return n;
    }

    private void applyAll(List<Entry> entries) {
        if (entries.isEmpty()) return;
        traceEntries(entries, EntryTracer.Point.COMMITTED);
        listener.applyStarted(entries.size());
        int i = 0;
        while (i < entries.size()) {
            int run = commandRun(entries, i);
            if (run > 1) {
                applyRun(entries.subList(i, i + run));
                i += run;
            } else {
                apply(entries.get(i++));
            }
        }
        listener.applyFinished(entries.size(), appliedIndex);
    }

    /** How many entries from {@code from} on are not-yet-applied commands that may go to the state machine together. */
    private int commandRun(List<Entry> entries, int from) {
        int n = 0;
        long bytes = 0;
        while (from + n < entries.size() && n < limits.applyBatchMax()) {
            Entry e = entries.get(from + n);
            if (e.type() != EntryType.NORMAL || e.data().length == 0 || e.index() <= appliedIndex) break;
            bytes += e.data().length;
            if (n > 0 && bytes > limits.applyBatchBytesMax()) break;
            n++;
        }
        return n;
    }

    /** Applies a run of commands in one state machine step, then completes their proposals in log order. */
    private void applyRun(List<Entry> run) {
        long[] indexes = new long[run.size()];
        byte[][] commands = new byte[run.size()][];
        for (int i = 0; i < run.size(); i++) {
            indexes[i] = run.get(i).index();
            commands[i] = run.get(i).data();
        }
        Object[] results = stateMachine.applyBatch(indexes, commands);
        Assert.that(results.length == run.size(), "state machine answered %d results for %d commands", results.length, run.size());
        long last = indexes[indexes.length - 1];
        logAppliedIndex = last;
        appliedIndex = last;
        // Published before any proposal of the run completes: its caller may read appliedIndex() at once and must see its entry.
        publishedAppliedIndex = last;
        for (int i = 0; i < run.size(); i++) completeProposals(run.get(i), results[i]);
    }

    /**
     * Hands the received state to the state machine and restarts the bookkeeping at the
     * snapshot's index. Proposals at or below it may or may not be in that state: their fate is
     * unknown here, so they fail as such (never as "lost", which promises they did not happen).
     */
    private void installSnapshot(Snapshot snap) {
        long index = snap.meta().index();
        Assert.that(index > logAppliedIndex, "snapshot at %d not after applied %d", index, logAppliedIndex);
        long held = stateMachine.restore(snap);
        Assert.that(held >= index, "state machine holds %d after installing snapshot %d", held, index);
        appliedIndex = Math.max(appliedIndex, held);
        logAppliedIndex = index;
        lastSnapshotTriggerIndex = index;
        confHistory.clear();
        confHistory.put(index, snap.meta().confState());
        var covered = proposals.headMap(index, true);
        for (PendingProposal p : covered.values()) {
            p.future().completeExceptionally(new ReplicaException(ReplicaException.Kind.STOPPED,
                    "outcome unknown: the entry's index " + index + " is covered by a snapshot installed from the leader"));
        }
        covered.clear();
    }

    /**
     * Compacts the log once {@link SnapshotPolicy#snapshotCount()} entries were applied since the
     * last time: only up to what the state machine reports durable (the log is the only other copy
     * of the rest), and keeping {@link SnapshotPolicy#catchupEntries()} behind that point.
     */
    private void maybeCompact() {
        if (!compactionDue()) return;
        lastSnapshotTriggerIndex = logAppliedIndex;
        long durable = stateMachine.flush();
        Assert.that(durable >= logAppliedIndex, "state machine durable at %d below applied %d", durable, logAppliedIndex);
        long target = Math.min(durable, logAppliedIndex) - snapshotPolicy.catchupEntries();
        if (target <= storage.snapshotIndex()) return;
        Map.Entry<Long, ConfState> conf = confHistory.floorEntry(target);
        Assert.that(conf != null, "no membership known at %d (history starts at %d)", target, confHistory.firstKey());
        ConfState cs = conf.getValue();
        try {
            storage.compact(target, cs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot compact the log at " + target + "; stopping this member", e);
        }
        confHistory.headMap(target, true).clear();
        confHistory.put(target, cs);
    }

    private boolean compactionDue() {
        return logAppliedIndex - lastSnapshotTriggerIndex >= snapshotPolicy.snapshotCount();
    }

    /**
     * A read forwarded to a leader that is no longer the leader will never be answered (the core
     * aborts only reads it leads itself): fail it so the caller retries with the new leader.
     */
    private void abortReadsOfOtherLeaders() {
        var it = readsIssued.values().iterator();
        while (it.hasNext()) {
            IssuedRead r = it.next();
            if (r.leader() == leader) continue;
            r.fail(new ReplicaException(ReplicaException.Kind.READ_ABORTED, "leader changed while the read was pending"));
            readsIssuedCount -= r.futures().size();
            it.remove();
        }
    }

    private void apply(Entry e) {
        long index = e.index();
        ConfChange change = null;
        ConfState conf = null;
        if (e.type() == EntryType.CONF_CHANGE) {
            change = ConfChange.decode(e.data());
            conf = node.applyConfChange(change);
            confHistory.put(index, conf);
        }
        logAppliedIndex = index;
        Object result = null;
        if (index > appliedIndex) {
            if (e.type() == EntryType.NORMAL && e.data().length > 0) result = stateMachine.apply(index, e.data());
            else if (change != null) stateMachine.applyConfChange(index, change, conf);
            else stateMachine.markApplied(index);
            appliedIndex = index;
            // Published before the proposal completes: its caller may read appliedIndex() at once and must see its entry.
            publishedAppliedIndex = index;
        }
        completeProposals(e, result);
    }

    private void traceEntries(List<Entry> entries, EntryTracer.Point point) {
        if (!tracer.enabled()) return;
        for (Entry e : entries) tracer.mark(e.index(), point);
    }

    private void completeProposals(Entry e, Object result) {
        tracer.mark(e.index(), EntryTracer.Point.APPLIED);
        Iterator<Map.Entry<Long, PendingProposal>> it = proposals.headMap(e.index(), true).entrySet().iterator();
        while (it.hasNext()) {
            var p = it.next();
            if (p.getKey() == e.index() && p.getValue().term() == e.term()) {
                p.getValue().future().complete(result);
                tracer.mark(e.index(), EntryTracer.Point.ANSWERED);
            } else {
                p.getValue().future().completeExceptionally(lost(p.getKey()));
                listener.proposalFailed();
            }
            it.remove();
        }
    }

    private void serveReads() {
        var it = readsWaiting.iterator();
        while (it.hasNext()) {
            var r = it.next();
            if (r.getKey() > appliedIndex) continue;
            it.remove();
            r.getValue().complete(r.getKey());
        }
    }

    private void failAll() {
        var stop = new ReplicaException(ReplicaException.Kind.STOPPED, "replica stopped");
        for (PendingProposal p : proposals.values()) p.future().completeExceptionally(stop);
        proposals.clear();
        for (IssuedRead r : readsIssued.values()) r.fail(stop);
        readsIssued.clear();
        readsIssuedCount = 0;
        for (CompletableFuture<Long> f : readsGathered) f.completeExceptionally(stop);
        readsGathered.clear();
        for (var r : readsWaiting) r.getValue().completeExceptionally(stop);
        readsWaiting.clear();
        inbox.drainTo(batch);
        for (Event e : batch) {
            if (e instanceof Propose p) p.future().completeExceptionally(stop);
            if (e instanceof ProposeConf p) p.future().completeExceptionally(stop);
            if (e instanceof Read r) r.future().completeExceptionally(stop);
            if (e instanceof Await a) a.future().completeExceptionally(stop);
            if (e instanceof Transfer t) t.future().completeExceptionally(stop);
        }
        batch.clear();
    }
}
