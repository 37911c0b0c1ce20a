package io.synod.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.MemoryLogStorage;
import io.synod.consensus.Message;
import io.synod.raft.RaftBootstrap;
import io.synod.raft.RaftConfig;
import io.synod.raft.RaftMessage;
import io.synod.raft.RaftNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Log compaction and snapshot install through the driver, with real Raft members, in-memory logs
 * and an in-memory network that can cut one member off: the members compact on the snapshot
 * count (keeping the catch-up entries), and a member cut off while the others compacted past its
 * log is brought back by a snapshot and then by appends. Conditions are awaited, never timed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplicaSnapshotTest {
    static final SnapshotPolicy POLICY = new SnapshotPolicy(10, 3);

    final Map<Long, ReplicaDriver> drivers = new ConcurrentHashMap<>();
    final Map<Long, MemoryLogStorage> logs = new ConcurrentHashMap<>();
    final Set<Long> cutOff = ConcurrentHashMap.newKeySet();
    final List<Thread> threads = new ArrayList<>();
    volatile boolean running = true;

    final Map<Long, ReplicaDriverTest.MemStorage> storages = new ConcurrentHashMap<>();
    /** Per receiving member, the one thread that delivers its messages when {@link #producerPasses} is on. */
    final Map<Long, java.util.concurrent.ExecutorService> transportThreads = new ConcurrentHashMap<>();

    /** Whether messages arrive as at a real member (DEFER on a transport thread, then runPending) rather than WAKE. */
    boolean producerPasses() {
        return false;
    }

    void startMember(long id, MemoryLogStorage log, StateMachine sm) {
        var node = new RaftNode(RaftConfig.builder(id).electionTicks(10).heartbeatTicks(1).build(), log, new SplittableRandom(id));
        ReplicaTransport net = messages -> {
            for (Message m : messages) {
                ReplicaDriver to = drivers.get(m.to());
                if (to == null || cutOff.contains(m.to()) || cutOff.contains(m.from())) {
                    if (m instanceof RaftMessage.SnapshotRequest) drivers.get(m.from()).reportSnapshot(m.to(), false);
                    continue;
                }
                if (!producerPasses()) {
                    boolean delivered = to.deliver(m);
                    // What a real transport does once the out-of-band transfer ended.
                    if (m instanceof RaftMessage.SnapshotRequest) drivers.get(m.from()).reportSnapshot(m.to(), delivered);
                    continue;
                }
                var thread = transportThreads.computeIfAbsent(m.to(),
                        k -> java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "transport-" + k)));
                try {
                    thread.execute(() -> {
                        boolean delivered = to.deliver(m, ReplicaDriver.Handoff.DEFER);
                        to.runPending();
                        if (m instanceof RaftMessage.SnapshotRequest) drivers.get(m.from()).reportSnapshot(m.to(), delivered);
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // shutting down
                }
            }
        };
        var storage = new ReplicaDriverTest.MemStorage(log);
        storages.put(id, storage);
        var d = new ReplicaDriver(node, storage, net, sm, ReplicaLimits.DEFAULTS, POLICY);
        drivers.put(id, d);
        logs.put(id, log);
        var loop = new Thread(d, "driver-" + id);
        var ticker = new Thread(() -> {
            while (running) {
                d.tick();
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
    }

    static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 3000; i++) {
            if (condition.getAsBoolean()) return;
            Thread.sleep(10);
        }
        throw new AssertionError("never happened: " + what);
    }

    @Test
    void cutOffMemberCatchesUpBySnapshotAfterTheOthersCompacted() throws Exception {
        var machines = new ConcurrentHashMap<Long, ReplicaDriverTest.ListMachine>();
        for (long id = 1; id <= 3; id++) {
            machines.put(id, new ReplicaDriverTest.ListMachine(0));
            startMember(id, RaftBootstrap.foundingStorage(Set.of(1L, 2L, 3L)), machines.get(id));
        }
        long leader = ReplicaDriverTest.awaitLeader(drivers.values());
        long lagging = leader % 3 + 1;
        cutOff.add(lagging);

        long last = 0;
        for (int i = 0; i < 60; i++) {
            last = (Long) drivers.get(leader).propose(("w" + i).getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        }
        MemoryLogStorage leaderLog = logs.get(leader);
        long applied = drivers.get(leader).appliedIndex();
        await("leader compacted", () -> leaderLog.firstIndex() > 1);
        // Compaction keeps the catch-up entries behind the point it could have cut at.
        assertThat(leaderLog.firstIndex() - 1).isLessThanOrEqualTo(applied - POLICY.catchupEntries());
        assertThat(logs.get(lagging).lastIndex()).isLessThan(leaderLog.firstIndex());

        cutOff.clear();
        long target = last;
        await("lagging member applied " + target, () -> drivers.get(lagging).appliedIndex() >= target);
        assertThat(machines.get(lagging).restored).isNotEmpty();
        long after = (Long) drivers.get(leader).propose("after".getBytes(StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
        await("lagging member applied the write after the snapshot", () -> machines.get(lagging).commands.contains("after"));
        assertThat(machines.get(lagging).applied).contains(after);
        // Its own log was rebuilt from the snapshot: nothing before it is held.
        assertThat(logs.get(lagging).firstIndex()).isGreaterThan(1);
        // Installing a snapshot and compacting the log are the loop threads' work, whoever ran the pass that met them.
        assertThat(machines.get(lagging).restoredOn).containsOnly("driver-" + lagging);
        assertThat(storages.get(leader).compactedOn).isNotEmpty();
        for (var e : storages.entrySet()) assertThat(e.getValue().compactedOn).allMatch(("driver-" + e.getKey())::equals);
    }
}
