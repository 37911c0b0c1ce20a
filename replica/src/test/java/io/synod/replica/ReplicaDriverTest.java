package io.synod.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.consensus.ConfState;
import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Message;
import io.synod.consensus.Ready;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SoftState;
import io.synod.raft.RaftBootstrap;
import io.synod.raft.RaftConfig;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftNode;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The driver over real Raft members with in-memory storage and an in-memory network, each on its
 * own thread with a real ticker: proposals complete with the state machine's result once
 * applied, followers refuse with a leader hint, ReadIndex completes only after the apply caught
 * up, and a restarted member rebuilds membership from its log while skipping entries its state
 * machine already holds.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReplicaDriverTest {
    /** Records what it applies; the result of a command is its index. */
    static class ListMachine implements StateMachine {
        final List<Long> applied = new CopyOnWriteArrayList<>();
        final List<String> commands = new CopyOnWriteArrayList<>();
        volatile long appliedIndex;

        ListMachine(long appliedIndex) {
            this.appliedIndex = appliedIndex;
        }

        @Override
        public long appliedIndex() {
            return appliedIndex;
        }

        @Override
        public Object apply(long index, byte[] command) {
            applied.add(index);
            commands.add(new String(command, StandardCharsets.UTF_8));
            appliedIndex = index;
            return index;
        }

        @Override
        public void markApplied(long index) {
            appliedIndex = index;
        }

        @Override
        public long flush() {
            return appliedIndex;
        }

        /** Indices of the snapshots installed; the "state" installed is only the applied index. */
        final List<Long> restored = new CopyOnWriteArrayList<>();
        /** The threads that installed them. */
        final List<String> restoredOn = new CopyOnWriteArrayList<>();

        @Override
        public long restore(Snapshot snapshot) {
            restored.add(snapshot.meta().index());
            restoredOn.add(Thread.currentThread().getName());
            appliedIndex = Math.max(appliedIndex, snapshot.meta().index());
            return appliedIndex;
        }
    }

    static class MemStorage implements ReplicaStorage {
        final MemoryLogStorage log;

        MemStorage(MemoryLogStorage log) {
            this.log = log;
        }

        @Override
        public void persist(Ready rd) {
            if (!rd.snapshot().isEmpty()) log.applySnapshot(rd.snapshot());
            if (!rd.entries().isEmpty()) log.append(rd.entries());
            if (!rd.hardState().isEmpty()) log.setHardState(rd.hardState());
        }

        @Override
        public long snapshotIndex() {
            return log.snapshot().meta().index();
        }

        /** The threads that compacted the log. */
        final List<String> compactedOn = new CopyOnWriteArrayList<>();

        @Override
        public void compact(long index, ConfState confState) {
            compactedOn.add(Thread.currentThread().getName());
            log.createSnapshot(index, confState, new byte[0]);
        }
    }

    final Map<Long, ReplicaDriver> drivers = new ConcurrentHashMap<>();
    /** Messages sent between the members, by type. */
    final Map<String, Integer> sent = new ConcurrentHashMap<>();
    /** Sees every message as it is sent, on the sender's thread, before it is delivered. */
    volatile java.util.function.Consumer<Message> onSend = m -> {};
    final List<Thread> threads = new ArrayList<>();
    volatile boolean running = true;
    /** While false the tickers skip their ticks: nothing but the tests' own events wakes a loop. */
    volatile boolean ticking = true;
    /** Per receiving member, the one "transport thread" that delivers its messages (when {@link #handoff} is not WAKE). */
    final Map<Long, java.util.concurrent.ExecutorService> transportThreads = new ConcurrentHashMap<>();

    /**
     * How these tests hand proposals, reads and messages to the drivers: WAKE, the loop thread does
     * every pass. {@link ReplicaDriverProducerPassTest} runs the same tests with RUN_HERE.
     */
    ReplicaDriver.Handoff handoff() {
        return ReplicaDriver.Handoff.WAKE;
    }

    ReplicaLimits limits() {
        return ReplicaLimits.DEFAULTS;
    }

    java.util.concurrent.CompletableFuture<Object> propose(ReplicaDriver d, String command) {
        return d.propose(cmd(command), handoff());
    }

    java.util.concurrent.CompletableFuture<Long> read(ReplicaDriver d) {
        return d.readIndex(handoff());
    }

    /**
     * The in-memory network. With WAKE the sender's thread queues each message at its receiver; else
     * each receiver has one transport thread that queues a send's messages (DEFER) and then runs
     * the pass (runPending), as a member's peer stream does with a frame.
     */
    void send(List<Message> messages) {
        for (Message m : messages) {
            sent.merge(m.getClass().getSimpleName(), 1, Integer::sum);
            onSend.accept(m);
        }
        if (handoff() == ReplicaDriver.Handoff.WAKE) {
            for (Message m : messages) {
                ReplicaDriver to = drivers.get(m.to());
                if (to != null) to.deliver(m);
            }
            return;
        }
        var byPeer = new java.util.TreeMap<Long, List<Message>>();
        for (Message m : messages) byPeer.computeIfAbsent(m.to(), k -> new ArrayList<>()).add(m);
        byPeer.forEach((id, frame) -> {
            ReplicaDriver to = drivers.get(id);
            if (to == null || !running) return;
            var thread = transportThreads.computeIfAbsent(id,
                    k -> java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "transport-" + k)));
            try {
                thread.execute(() -> {
                    for (Message m : frame) to.deliver(m, ReplicaDriver.Handoff.DEFER);
                    to.runPending();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // shutting down: a lost message, which Raft tolerates
            }
        });
    }

    ReplicaDriver startMember(long id, MemoryLogStorage log, StateMachine sm) {
        return startMember(id, log, sm, new MemStorage(log));
    }

    ReplicaDriver startMember(long id, MemoryLogStorage log, StateMachine sm, ReplicaStorage storage) {
        return startMember(id, log, sm, storage, 10);
    }

    ReplicaDriver startMember(long id, MemoryLogStorage log, StateMachine sm, ReplicaStorage storage, int electionTicks) {
        var node = new RaftNode(RaftConfig.builder(id).electionTicks(electionTicks).heartbeatTicks(1).build(), log, new SplittableRandom(id));
        var d = new ReplicaDriver(node, storage, this::send, sm, limits());
        drivers.put(id, d);
        var loop = new Thread(d, "driver-" + id);
        var ticker = new Thread(() -> {
            while (running && !Thread.currentThread().isInterrupted()) {
                if (ticking) d.tick();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "ticker-" + id);
        loop.start();
        ticker.start();
        threads.add(loop);
        threads.add(ticker);
        return d;
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        running = false;
        for (ReplicaDriver d : drivers.values()) d.stop();
        for (Thread t : threads) {
            t.interrupt();
            t.join(2000);
        }
        for (var t : transportThreads.values()) t.shutdownNow();
        transportThreads.clear();
    }

    static long awaitLeader(Iterable<ReplicaDriver> ds) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            long leader = SoftState.NO_LEADER;
            boolean agreed = true;
            for (ReplicaDriver d : ds) {
                if (d.leader() == SoftState.NO_LEADER || (leader != SoftState.NO_LEADER && d.leader() != leader)) agreed = false;
                leader = d.leader();
            }
            if (agreed && leader != SoftState.NO_LEADER) return leader;
            Thread.sleep(10);
        }
        throw new AssertionError("no leader");
    }

    /** Waits until the leader knows every member holds its whole log (so it replicates to them, not probes). */
    static void awaitFollowersCaughtUp(ReplicaDriver leader) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            var s = leader.status();
            if (s.matchIndex().size() == 3 && s.matchIndex().values().stream().allMatch(m -> m >= s.lastIndex())) return;
            Thread.sleep(10);
        }
        throw new AssertionError("followers never caught up: " + leader.status());
    }

    static byte[] cmd(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Three founding members 1, 2 and 3, each with a {@link ListMachine}, by id. */
    Map<Long, ListMachine> startThree() {
        return startThree(() -> new ListMachine(0));
    }

    /** Three founding members, each with a state machine of its own from {@code machine}. */
    <M extends StateMachine> Map<Long, M> startThree(java.util.function.Supplier<M> machine) {
        var machines = new ConcurrentHashMap<Long, M>();
        for (long id = 1; id <= 3; id++) {
            machines.put(id, machine.get());
            startMember(id, RaftBootstrap.foundingStorage(Set.of(1L, 2L, 3L)), machines.get(id));
        }
        return machines;
    }

    @Test
    void proposalsCompleteOnApplyAndFollowersGiveALeaderHint() throws Exception {
        var machines = startThree();
        long leader = awaitLeader(drivers.values());
        ReplicaDriver l = drivers.get(leader);
        long index = (Long) propose(l, "a").get(5, TimeUnit.SECONDS);
        assertThat(machines.get(leader).commands).containsExactly("a");
        assertThat(l.appliedIndex()).isGreaterThanOrEqualTo(index);

        long followerId = leader % 3 + 1;
        ReplicaDriver f = drivers.get(followerId);
        assertThatThrownBy(() -> propose(f, "b").get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(ReplicaException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ReplicaException.Kind.NOT_LEADER);
                    assertThat(e.leaderHint()).isEqualTo(leader);
                });

        // A read on a follower completes only once that follower has applied the write.
        long readIndex = read(f).get(5, TimeUnit.SECONDS);
        assertThat(readIndex).isGreaterThanOrEqualTo(index);
        assertThat(f.appliedIndex()).isGreaterThanOrEqualTo(readIndex);
        assertThat(machines.get(followerId).commands).containsExactly("a");
    }

    @Test
    void aProposalFencedToATermIsRefusedInAnyOther() throws Exception {
        var machines = startThree();
        long leader = awaitLeader(drivers.values());
        ReplicaDriver l = drivers.get(leader);
        long term = l.term();
        byte[] now = cmd("in-term");
        l.proposeInTerm(now, ReplicaDriver.Handoff.WAKE, term).get(5, TimeUnit.SECONDS);
        assertThat(machines.get(leader).commands).containsExactly("in-term");
        byte[] stale = cmd("decided-in-an-earlier-term");
        assertThatThrownBy(() -> l.proposeInTerm(stale, ReplicaDriver.Handoff.WAKE, term - 1).get(5, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(ReplicaException.class, e -> assertThat(e.kind()).isEqualTo(ReplicaException.Kind.NOT_LEADER));
        // Nothing was appended for it: the next write is applied right after the first.
        propose(l, "after").get(5, TimeUnit.SECONDS);
        assertThat(machines.get(leader).commands).containsExactly("in-term", "after");
    }

    /** A {@link ListMachine} that also records the size of every {@link StateMachine#applyBatch} call. */
    static class BatchMachine extends ListMachine {
        final List<Integer> batches = new CopyOnWriteArrayList<>();

        BatchMachine() {
            super(0);
        }

        @Override
        public Object[] applyBatch(long[] indexes, byte[][] commands) {
            for (int i = 1; i < indexes.length; i++) {
                assertThat(indexes[i]).as("batch indexes ascend").isGreaterThan(indexes[i - 1]);
            }
            assertThat(indexes[0]).as("batch starts after what is applied").isGreaterThan(appliedIndex);
            batches.add(indexes.length);
            return super.applyBatch(indexes, commands);
        }
    }

    @Test
    void runsOfCommittedCommandsReachTheStateMachineTogetherAndEachProposalGetsItsOwnResult() throws Exception {
        var machines = startThree(BatchMachine::new);
        long leader = awaitLeader(drivers.values());
        ReplicaDriver l = drivers.get(leader);
        var futures = new ArrayList<java.util.concurrent.CompletableFuture<Object>>();
        for (int i = 0; i < 300; i++) futures.add(propose(l, "p" + i));
        var indexes = new ArrayList<Long>();
        for (var f : futures) indexes.add((Long) f.get(10, TimeUnit.SECONDS));
        // Each proposal completed with the result of its own entry (the machine answers with the index it applied).
        assertThat(indexes).doesNotHaveDuplicates().isSorted();
        BatchMachine lm = machines.get(leader);
        assertThat(lm.commands).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 300).mapToObj(i -> "p" + i).toList());
        assertThat(lm.applied).containsSubsequence(indexes);
        assertThat(lm.batches).as("proposals made at once commit and apply in runs").anyMatch(n -> n > 1);
        assertThat(lm.batches).allMatch(n -> n <= ReplicaLimits.DEFAULTS.applyBatchMax());
    }

    @Test
    void readsTakenFromTheInboxTogetherShareOneReadIndexRequest() throws Exception {
        startThree();
        long leader = awaitLeader(drivers.values());
        long written = (Long) propose(drivers.get(leader), "w").get(5, TimeUnit.SECONDS);
        ReplicaDriver f = drivers.get(leader % 3 + 1);
        sent.clear();
        var reads = new ArrayList<java.util.concurrent.CompletableFuture<Long>>();
        // Queued together (DEFER, then one pass, in the producer-pass variant: one at a time each read would run its own pass).
        boolean queueOnly = handoff() != ReplicaDriver.Handoff.WAKE;
        for (int i = 0; i < 400; i++) reads.add(queueOnly ? f.readIndex(ReplicaDriver.Handoff.DEFER) : f.readIndex());
        if (queueOnly) f.runPending();
        for (var r : reads) {
            long index = r.get(5, TimeUnit.SECONDS);
            assertThat(index).as("a read point at or after the acknowledged write").isGreaterThanOrEqualTo(written);
            assertThat(f.appliedIndex()).isGreaterThanOrEqualTo(index);
        }
        // Without sharing every read would cost the follower one request to the leader.
        assertThat(sent.getOrDefault("ReadIndexRequest", 0)).as("read index requests for 400 reads").isBetween(1, 100);
    }

    @Test
    void restartReappliesMembershipAndSkipsWhatTheStateMachineHolds() throws Exception {
        MemoryLogStorage log = RaftBootstrap.foundingStorage(Set.of(1L));
        var first = new ListMachine(0);
        ReplicaDriver d = startMember(1, log, first);
        awaitLeader(List.of(d));
        for (int i = 0; i < 5; i++) propose(d, "c" + i).get(5, TimeUnit.SECONDS);
        List<Long> appliedBefore = List.copyOf(first.applied);
        assertThat(appliedBefore).hasSize(5);
        stopAll();

        running = true;
        drivers.clear();
        threads.clear();
        long heldUpTo = appliedBefore.get(2); // the state machine kept the first three commands
        var second = new ListMachine(heldUpTo);
        ReplicaDriver again = startMember(1, log, second);
        // Leading again needs the bootstrap membership, which only the replayed log provides.
        awaitLeader(List.of(again));
        propose(again, "after").get(5, TimeUnit.SECONDS);
        assertThat(second.applied).startsWith(appliedBefore.get(3), appliedBefore.get(4));
        assertThat(second.commands).containsExactly("c3", "c4", "after");
    }

    /**
     * The two halves of forwarding a write through the peer stream: the leader's proposeFor answers
     * on its loop with the entry's place, and a follower waiting for that place gets its own apply's
     * result; a wait for a place already applied, or taken by another term's entry, fails.
     */
    @Test
    void forwardedProposalCompletesOnTheFollowersOwnApply() throws Exception {
        var machines = startThree();
        long leader = awaitLeader(drivers.values());
        ReplicaDriver l = drivers.get(leader);
        long followerId = leader % 3 + 1;
        ReplicaDriver f = drivers.get(followerId);

        var answered = new java.util.concurrent.CompletableFuture<java.util.concurrent.CompletableFuture<Object>>();
        var loopThread = new java.util.concurrent.atomic.AtomicReference<String>();
        assertThat(l.proposeFor(cmd("fwd"), result -> {
            loopThread.set(Thread.currentThread().getName());
            var a = (io.synod.consensus.ProposeResult.Accepted) result;
            // Registered from the answer, before the leader's loop handles the Ready with the entry.
            answered.complete(f.awaitEntry(a.term(), a.index(), handoff()));
        }, handoff())).isTrue();
        Object result = answered.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        // The answer comes from a pass over the leader's core: its loop's, or (RUN_HERE) that of whichever producer held
        // the turn: this thread, or the harness's thread delivering peer messages to the leader, if it was running a pass.
        if (handoff() == ReplicaDriver.Handoff.WAKE) assertThat(loopThread.get()).isEqualTo("driver-" + leader);
        else assertThat(loopThread.get()).isIn("driver-" + leader, Thread.currentThread().getName(), "transport-" + leader);
        assertThat(machines.get(followerId).commands).containsExactly("fwd");
        assertThat(result).isEqualTo(machines.get(followerId).applied.get(0)); // the follower's own apply's result

        long applied = f.appliedIndex();
        assertThatThrownBy(() -> f.awaitEntry(l.term(), applied, handoff()).get(5, TimeUnit.SECONDS))
                .cause().isInstanceOfSatisfying(ReplicaException.class, e -> assertThat(e.kind()).isEqualTo(ReplicaException.Kind.STOPPED));

        // A wait for the next index under an older term can never be satisfied: the leader's entry there has its own term.
        var stale = f.awaitEntry(l.term() - 1, applied + 1, handoff());
        propose(l, "next").get(5, TimeUnit.SECONDS);
        assertThatThrownBy(() -> stale.get(5, TimeUnit.SECONDS))
                .cause().isInstanceOfSatisfying(ReplicaException.class, e -> assertThat(e.kind()).isEqualTo(ReplicaException.Kind.LEADER_CHANGED));

        // A follower refuses to propose a forwarded command itself and names the leader.
        var refusal = new java.util.concurrent.CompletableFuture<io.synod.consensus.ProposeResult>();
        assertThat(f.proposeFor(cmd("x"), refusal::complete, handoff())).isTrue();
        assertThat(refusal.get(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(io.synod.consensus.ProposeResult.Rejected.class,
                r -> assertThat(r.leaderHint()).isEqualTo(leader));
    }

    /**
     * An entry already durable here is applied (and its proposal answered) without waiting for the
     * disk write of newer entries in the same Ready: while the leader's persist of C hangs, B, which
     * it wrote earlier and the followers acknowledged, completes.
     */
    @Test
    void durableCommittedEntriesDoNotWaitForTheNextPersist() throws Exception {
        var gated = new java.util.concurrent.atomic.AtomicLong(-1);
        var persistingB = new java.util.concurrent.CountDownLatch(1);
        var releaseB = new java.util.concurrent.CountDownLatch(1);
        var persistingC = new java.util.concurrent.CountDownLatch(1);
        var releaseC = new java.util.concurrent.CountDownLatch(1);
        var machines = new ConcurrentHashMap<Long, ListMachine>();
        for (long id = 1; id <= 3; id++) {
            long self = id;
            machines.put(id, new ListMachine(0));
            var log = RaftBootstrap.foundingStorage(Set.of(1L, 2L, 3L));
            startMember(id, log, machines.get(id), new MemStorage(log) {
                @Override
                public void persist(Ready rd) {
                    if (gated.get() == self) {
                        try {
                            if (holds(rd, "B")) {
                                persistingB.countDown();
                                releaseB.await();
                            }
                            if (holds(rd, "C")) {
                                persistingC.countDown();
                                releaseC.await();
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    super.persist(rd);
                }
            }, 100); // a 1 s election timeout: the followers must not elect anew while the leader's disk write hangs
        }
        long leader = awaitLeader(drivers.values());
        ReplicaDriver l = drivers.get(leader);
        // Until a follower answers the new leader's first append, the leader probes it and sends it nothing more: B's
        // appends would then wait behind the hung disk write, and B could not commit before C's write.
        awaitFollowersCaughtUp(l);
        gated.set(leader);
        // WAKE in every variant: the leader's loop thread is the one left hanging in the disk write.
        var b = l.propose(cmd("B"));
        assertThat(persistingB.await(5, TimeUnit.SECONDS)).isTrue();
        // B's appends left before the leader's disk write; the followers' acks queue up behind it, and so does C.
        Thread.sleep(50);
        var c = l.propose(cmd("C"));
        releaseB.countDown();
        assertThat(persistingC.await(5, TimeUnit.SECONDS)).isTrue();
        // The Ready that writes C also commits B: B is answered while C's write still hangs.
        assertThat(b.get(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(machines.get(leader).commands).containsExactly("B");
        assertThat(c).isNotDone();
        releaseC.countDown();
        c.get(5, TimeUnit.SECONDS);
        assertThat(machines.get(leader).commands).containsExactly("B", "C");
    }

    static boolean holds(Ready rd, String command) {
        for (var e : rd.entries()) {
            if (new String(e.data(), StandardCharsets.UTF_8).equals(command)) return true;
        }
        return false;
    }

    private static List<String> pointsOf(EntryTracer t, long index) throws Exception {
        var out = new StringWriter();
        t.dump(out);
        var points = new ArrayList<String>();
        for (String line : out.toString().split("\n")) {
            String[] f = line.split("\t");
            if (f.length == 3 && Long.parseLong(f[0]) == index) points.add(f[1]);
        }
        return points;
    }

    @Test
    void theLeaderAndAFollowerRecordEveryPointOfASampledWrite() throws Exception {
        startThree();
        long leader = awaitLeader(drivers.values());
        for (ReplicaDriver d : drivers.values()) d.tracer(new EntryTracer(1, 10_000));
        long index = (Long) propose(drivers.get(leader), "traced").get(5, TimeUnit.SECONDS);
        for (ReplicaDriver d : drivers.values()) {
            for (int i = 0; i < 500 && d.appliedIndex() < index; i++) Thread.sleep(10);
        }
        assertThat(pointsOf(drivers.get(leader).tracer(), index)).contains("PROPOSED", "APPENDED", "SENT", "WRITING", "PERSISTED", "ACK_RECEIVED",
                "COMMITTED", "APPLIED", "ANSWERED").doesNotContain("RECEIVED", "ACKED");
        long follower = leader % 3 + 1;
        assertThat(pointsOf(drivers.get(follower).tracer(), index)).contains("RECEIVED", "WRITING", "PERSISTED", "ACKED", "COMMITTED", "APPLIED")
                .doesNotContain("PROPOSED", "SENT", "ANSWERED");
    }

    @Test
    void aLeaderAppliesTheWriteAnAcknowledgementCommitsBeforeItSendsTheNewCommitIndex() throws Exception {
        var journal = new CopyOnWriteArrayList<String>();
        var ids = new AtomicLong();
        startThree(() -> new ListMachine(0) {
            final long id = ids.incrementAndGet();

            @Override
            public Object apply(long index, byte[] command) {
                journal.add("apply " + id + " " + index);
                return super.apply(index, command);
            }
        });
        long leader = awaitLeader(drivers.values());
        onSend = m -> {
            if (m instanceof RaftMessage.AppendRequest a && a.entries().isEmpty() && a.from() == leader) {
                journal.add("commit " + a.leaderCommit());
            } else if (m instanceof RaftMessage.CommitNotice c && c.from() == leader) {
                journal.add("commit " + Math.min(c.commit(), c.index()));
            }
        };
        long index = (Long) propose(drivers.get(leader), "a").get(5, TimeUnit.SECONDS);
        // The answer may come before the announcement (that is the point): wait for both.
        List<String> seen = List.of();
        int applied = -1;
        int announced = -1;
        for (int tries = 0; tries < 500 && (applied < 0 || announced < 0); tries++) {
            if (tries > 0) Thread.sleep(10);
            seen = List.copyOf(journal);
            applied = seen.indexOf("apply " + leader + " " + index);
            announced = -1;
            for (int i = 0; i < seen.size() && announced < 0; i++) {
                String e = seen.get(i);
                if (e.startsWith("commit ") && Long.parseLong(e.substring(7)) >= index) announced = i;
            }
        }
        assertThat(applied).as("leader %d, index %d, journal %s", leader, index, seen).isGreaterThanOrEqualTo(0);
        assertThat(announced).as("leader %d, index %d, journal %s", leader, index, seen).isGreaterThan(applied);
    }
}
