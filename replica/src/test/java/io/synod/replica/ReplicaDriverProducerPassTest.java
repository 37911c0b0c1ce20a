package io.synod.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Ready;
import io.synod.raft.RaftBootstrap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The driver's tests again, with every proposal, read and message handed over with RUN_HERE (or
 * DEFER then runPending, on one transport thread per member), so producers run passes themselves
 * whenever a loop is idle; plus what only this mode has: who runs which pass, that no queued event
 * is stranded when many producers race (the loops' idle wait is ten minutes here, so an event
 * nobody looked at again would hang the test), and that a producer's failed pass stops the member
 * as a failure on its loop does.
 */
class ReplicaDriverProducerPassTest extends ReplicaDriverTest {
    @Override
    ReplicaDriver.Handoff handoff() {
        return ReplicaDriver.Handoff.RUN_HERE;
    }

    @Override
    ReplicaLimits limits() {
        var d = ReplicaLimits.DEFAULTS;
        return new ReplicaLimits(d.inboxDepthMax(), d.drainBatchMax(), d.pendingProposalsMax(), d.pendingReadsMax(), 600_000,
                d.applyBatchMax(), d.applyBatchBytesMax());
    }

    /** Storage that records, per command, the name of each thread that wrote it. */
    static final class ThreadRecordingStorage extends MemStorage {
        final Map<String, List<String>> writers = new ConcurrentHashMap<>();

        ThreadRecordingStorage(MemoryLogStorage log) {
            super(log);
        }

        @Override
        public void persist(Ready rd) {
            for (var e : rd.entries()) {
                writers.computeIfAbsent(new String(e.data(), StandardCharsets.UTF_8), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                        .add(Thread.currentThread().getName());
            }
            super.persist(rd);
        }
    }

    @Test
    void anIdleMembersPassRunsOnTheThreadThatBroughtTheEvent() throws Exception {
        var storages = new ConcurrentHashMap<Long, ThreadRecordingStorage>();
        for (long id = 1; id <= 3; id++) {
            var log = RaftBootstrap.foundingStorage(Set.of(1L, 2L, 3L));
            storages.put(id, new ThreadRecordingStorage(log));
            startMember(id, log, new ListMachine(0), storages.get(id));
        }
        long leader = awaitLeader(drivers.values());
        propose(drivers.get(leader), "warm").get(5, TimeUnit.SECONDS);
        ticking = false;
        Thread.sleep(100); // the last ticks' passes end; every loop is parked now
        propose(drivers.get(leader), "x").get(5, TimeUnit.SECONDS);
        // The leader wrote its entry on this thread; each follower on the transport thread that received the appends.
        assertThat(storages.get(leader).writers.get("x")).containsExactly(Thread.currentThread().getName());
        for (long id = 1; id <= 3; id++) {
            if (id == leader) continue;
            long follower = id;
            awaitCondition(() -> storages.get(follower).writers.containsKey("x"));
            assertThat(storages.get(follower).writers.get("x")).containsExactly("transport-" + follower);
        }
    }

    /** Records the thread that applied each command. */
    static final class ThreadRecordingMachine extends ListMachine {
        final Map<String, String> appliedOn = new ConcurrentHashMap<>();

        ThreadRecordingMachine() {
            super(0);
        }

        @Override
        public Object apply(long index, byte[] command) {
            appliedOn.put(new String(command, java.nio.charset.StandardCharsets.UTF_8), Thread.currentThread().getName());
            return super.apply(index, command);
        }
    }

    @Test
    void aLeaderCommitsOnTheThreadThatBroughtTheAcknowledgement() throws Exception {
        var machines = startThree(ThreadRecordingMachine::new);
        long leader = awaitLeader(drivers.values());
        propose(drivers.get(leader), "warm").get(5, TimeUnit.SECONDS);
        ticking = false;
        Thread.sleep(100);
        // The write is in flight when the followers' acknowledgements arrive, so the leader is not lightly loaded; the
        // acknowledgements add nothing to its log, so their pass (commit, apply, answer) still runs where they arrived.
        // Several writes, as a pass of this thread may still hold the turn when an acknowledgement comes.
        var threads = new java.util.HashSet<String>();
        for (int i = 0; i < 5; i++) {
            propose(drivers.get(leader), "w" + i).get(5, TimeUnit.SECONDS);
            threads.add(machines.get(leader).appliedOn.get("w" + i));
            Thread.sleep(20);
        }
        assertThat(threads).contains("transport-" + leader);
    }

    @Test
    void manyProducersRacingStrandNoEvent() throws Exception {
        var machines = startThree();
        long leader = awaitLeader(drivers.values());
        ReplicaDriver l = drivers.get(leader);
        ReplicaDriver f = drivers.get(leader % 3 + 1);
        propose(l, "warm").get(5, TimeUnit.SECONDS);
        ticking = false; // only the producers' own events drive the members from here
        int writers = 6;
        int each = 200;
        var futures = new ConcurrentHashMap<String, CompletableFuture<Object>>();
        var reads = new java.util.concurrent.CopyOnWriteArrayList<CompletableFuture<Long>>();
        var threads = new ArrayList<Thread>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    String c = "w" + writer + "-" + i;
                    futures.put(c, propose(l, c));
                    if (i % 10 == 0) reads.add(read(f));
                }
            }, "producer-" + w));
        }
        for (Thread t : threads) t.start();
        for (Thread t : threads) t.join();
        var results = new HashSet<Object>();
        for (var e : futures.entrySet()) results.add(e.getValue().get(20, TimeUnit.SECONDS));
        for (var r : reads) r.get(20, TimeUnit.SECONDS);
        assertThat(results).as("one distinct entry per proposal").hasSize(writers * each);
        long last = l.appliedIndex();
        awaitCondition(() -> drivers.values().stream().allMatch(d -> d.appliedIndex() >= last));
        List<String> leaderCommands = machines.get(leader).commands;
        assertThat(leaderCommands).hasSize(writers * each + 1).doesNotHaveDuplicates();
        for (var m : machines.values()) assertThat(m.commands).isEqualTo(leaderCommands);
        // Each producer's proposals are applied in the order it made them.
        for (int w = 0; w < writers; w++) {
            String prefix = "w" + w + "-";
            var own = leaderCommands.stream().filter(c -> c.startsWith(prefix)).toList();
            assertThat(own).isEqualTo(java.util.stream.IntStream.range(0, each).mapToObj(i -> prefix + i).toList());
        }
    }

    @Test
    void aProducersFailedPassStopsTheMemberAsALoopFailureWould() throws Exception {
        var failing = new java.util.concurrent.atomic.AtomicBoolean();
        var failedOn = new java.util.concurrent.atomic.AtomicReference<String>();
        MemoryLogStorage log = RaftBootstrap.foundingStorage(Set.of(1L));
        var mem = new MemStorage(log);
        ReplicaDriver d = startMember(1, log, new ListMachine(0), new ReplicaStorage() {
            @Override
            public void persist(Ready rd) throws IOException {
                if (failing.get() && !rd.entries().isEmpty()) {
                    failedOn.set(Thread.currentThread().getName());
                    throw new IOException("disk gone");
                }
                mem.persist(rd);
            }

            @Override
            public long snapshotIndex() {
                return mem.snapshotIndex();
            }

            @Override
            public void compact(long index, io.synod.consensus.ConfState confState) {
                mem.compact(index, confState);
            }
        });
        awaitLeader(List.of(d));
        propose(d, "ok").get(5, TimeUnit.SECONDS);
        ticking = false;
        Thread.sleep(100);
        failing.set(true);
        CompletableFuture<Object> lost = propose(d, "lost"); // returns: the failure is not thrown at the producer
        assertThat(failedOn.get()).isEqualTo(Thread.currentThread().getName());
        assertThatThrownBy(() -> lost.get(5, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(ReplicaException.class,
                e -> assertThat(e.kind()).isEqualTo(ReplicaException.Kind.STOPPED));
        assertThat(d.failure()).isInstanceOf(java.io.UncheckedIOException.class).hasRootCauseMessage("disk gone");
        Thread loop = threads.get(0);
        loop.join(5000);
        assertThat(loop.isAlive()).as("the loop thread ended").isFalse();
        assertThatThrownBy(() -> propose(d, "after").get(5, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(ReplicaException.class,
                e -> assertThat(e.kind()).isEqualTo(ReplicaException.Kind.STOPPED));
    }

    static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            if (condition.getAsBoolean()) return;
            Thread.sleep(10);
        }
        throw new AssertionError("condition never held");
    }
}
