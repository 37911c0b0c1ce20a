package io.synod.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.ConsensusNode;
import io.synod.consensus.Entry;
import io.synod.consensus.HardState;
import io.synod.consensus.Message;
import io.synod.consensus.ProposeResult;
import io.synod.consensus.ReadState;
import io.synod.consensus.Ready;
import io.synod.consensus.Role;
import io.synod.consensus.Snapshot;
import io.synod.consensus.SoftState;
import io.synod.consensus.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The driver's bookkeeping against a scripted core, so that the rare outcomes are exercised
 * deterministically: a proposal whose index is applied with another term fails with
 * LEADER_CHANGED (never silently completes), a read is served only once the apply reaches its
 * index, and the Ready steps happen in the required order (persist, send, apply, advance).
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ReplicaDriverFateTest {
    /** A core that accepts proposals at scripted positions and emits the Readys the test queues. */
    static final class ScriptedNode implements ConsensusNode {
        final ConcurrentLinkedQueue<Ready> readys = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<ProposeResult> proposeResults = new ConcurrentLinkedQueue<>();
        final List<String> trace = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile byte[] lastReadContext;

        @Override public long id() { return 1; }
        @Override public void tick() {}
        @Override public void step(Message message) {}
        @Override public ProposeResult propose(byte[] data) { return proposeResults.poll(); }
        @Override public ProposeResult proposeConfChange(ConfChange change) { throw new UnsupportedOperationException(); }
        @Override public ProposeResult readIndex(byte[] ctx) { lastReadContext = ctx; return new ProposeResult.Accepted(2, 0); }
        @Override public ProposeResult transferLeadership(long transferee) { throw new UnsupportedOperationException(); }
        @Override public ConfState applyConfChange(ConfChange change) { return ConfState.EMPTY; }
        @Override public void reportSnapshot(long to, boolean success) {}
        @Override public void reportUnreachable(long to) {}
        @Override public boolean hasReady() { return !readys.isEmpty(); }
        @Override public Ready ready() { return readys.poll(); }
        @Override public void advance(Ready ready) { trace.add("advance"); }
        @Override public Status status() { return new Status(1, 2, 1, Role.LEADER, 1, 0, 0, 0, ConfState.EMPTY); }
    }

    static Ready ready(List<Entry> committed, List<ReadState> reads) {
        return new Ready(new SoftState(1, Role.LEADER), HardState.EMPTY, List.of(), Snapshot.EMPTY, List.of(), List.of(), committed, reads,
                List.of(), false);
    }

    final ScriptedNode node = new ScriptedNode();
    final ReplicaDriverTest.ListMachine machine = new ReplicaDriverTest.ListMachine(0) {
        @Override
        public Object apply(long index, byte[] command) {
            node.trace.add("apply " + index);
            return super.apply(index, command);
        }
    };

    ReplicaDriver start() {
        ReplicaStorage storage = new ReplicaStorage() {
            @Override public void persist(Ready rd) { node.trace.add("persist"); }
            @Override public long snapshotIndex() { return 0; }
            @Override public void compact(long index, ConfState confState) { throw new AssertionError("no compaction expected"); }
        };
        ReplicaTransport transport = msgs -> node.trace.add("send");
        var d = new ReplicaDriver(node, storage, transport, machine, ReplicaLimits.DEFAULTS);
        var t = new Thread(d, "driver");
        t.setDaemon(true);
        t.start();
        return d;
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aProposalOverwrittenByAnotherTermFailsAndTheMatchingOneCompletes() throws Exception {
        ReplicaDriver d = start();
        node.proposeResults.add(new ProposeResult.Accepted(2, 1));
        node.proposeResults.add(new ProposeResult.Accepted(2, 2));
        CompletableFuture<Object> lost = d.propose(b("x"));
        CompletableFuture<Object> kept = d.propose(b("y"));
        Thread.sleep(100); // both accepted by the core
        node.readys.add(ready(List.of(Entry.normal(3, 1, b("other")), Entry.normal(2, 2, b("y"))), List.of()));
        d.tick(); // wakes the loop
        assertThat(kept.get(5, TimeUnit.SECONDS)).isEqualTo(2L);
        try {
            lost.get(5, TimeUnit.SECONDS);
            throw new AssertionError("the overwritten proposal completed");
        } catch (ExecutionException e) {
            assertThat(((ReplicaException) e.getCause()).kind()).isEqualTo(ReplicaException.Kind.LEADER_CHANGED);
        }
        assertThat(machine.commands).containsExactly("other", "y");
        // Futures complete during apply, before advance: wait for the loop to finish the Ready.
        for (int i = 0; i < 500 && !node.trace.contains("advance"); i++) Thread.sleep(5);
        assertThat(node.trace).containsSubsequence("persist", "apply 1", "apply 2", "advance");
        d.stop();
    }

    @Test
    void aReadIsServedOnlyOnceTheApplyReachesItsIndex() throws Exception {
        ReplicaDriver d = start();
        CompletableFuture<Long> read = d.readIndex();
        while (node.lastReadContext == null) Thread.sleep(5);
        node.readys.add(ready(List.of(), List.of(new ReadState(1, node.lastReadContext))));
        d.tick();
        Thread.sleep(200);
        assertThat(read).isNotDone();
        node.readys.add(ready(List.of(Entry.normal(2, 1, b("w"))), List.of()));
        d.tick();
        assertThat(read.get(5, TimeUnit.SECONDS)).isEqualTo(1L);
        assertThat(machine.commands).containsExactly("w");
        d.stop();
    }

    @Test
    void stoppingFailsWhatIsPending() throws Exception {
        ReplicaDriver d = start();
        node.proposeResults.add(new ProposeResult.Accepted(2, 1));
        CompletableFuture<Object> pending = d.propose(b("x"));
        Thread.sleep(100);
        d.stop();
        try {
            pending.get(5, TimeUnit.SECONDS);
            throw new AssertionError("completed");
        } catch (ExecutionException e) {
            assertThat(((ReplicaException) e.getCause()).kind()).isEqualTo(ReplicaException.Kind.STOPPED);
        }
        assertThat(d.propose(b("late")).isCompletedExceptionally()).isTrue();
    }
}
