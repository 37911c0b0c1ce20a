package io.synod.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.synod.consensus.ConfChange;
import io.synod.consensus.Message;
import io.synod.raft.testing.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A small seeded fuzz over the test network: random ticks, message loss, reordering and
 * duplication, partitions, crashes with restarts, compaction, proposals and a learner joining and
 * being promoted; half the seeds hand Readies out asynchronously (messages are stepped while a
 * node's disk write is still outstanding). The network itself checks Election Safety (one leader per term, Raft §5.2) and
 * State Machine Safety (one entry per applied index, §5.4.3) on every step; the core checks its own
 * invariants. At the end, with faults healed, the group must make progress again (liveness).
 * Each seed is printed, so a failure can be replayed alone.
 */
class RandomizedSafetyTest {

    static List<Long> seeds() {
        var out = new ArrayList<Long>();
        // FUZZ_SEEDS=n widens the sweep for a local bug hunt; the default keeps the suite fast.
        long n = Long.parseLong(System.getenv().getOrDefault("FUZZ_SEEDS", "40"));
        for (long s = 1; s <= n; s++) out.add(s);
        return out;
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void safetyHoldsUnderRandomFaults(long seed) {
        System.out.println("RandomizedSafetyTest seed " + seed);
        var rnd = new SplittableRandom(seed);
        boolean preVote = rnd.nextBoolean();
        boolean checkQuorum = rnd.nextBoolean();
        var net = Network.founding(seed, b -> b.preVote(preVote).checkQuorum(checkQuorum).appendEntriesMax(1 + rnd.nextInt(4))
                .inflightAppendsMax(1 + rnd.nextInt(4)), 1, 2, 3);
        net.addJoiner(4);
        boolean async = rnd.nextBoolean();
        net.asyncReady(async);
        List<Message> seen = new ArrayList<>();
        int proposals = 0;
        for (int step = 0; step < 1500; step++) {
            int dice = rnd.nextInt(100);
            long id = 1 + rnd.nextInt(4);
            if (async && rnd.nextInt(100) < 30) net.completeReady(id); // a disk write finishes
            if (dice < 35) {
                net.tick(id);
            } else if (dice < 70) {
                int n = net.queueSize();
                if (n > 0) {
                    var q = net.queued();
                    int i = rnd.nextInt(100) < 80 ? 0 : rnd.nextInt(n);
                    if (seen.size() < 2000) seen.add(q.get(i));
                    if (rnd.nextInt(100) < 10) net.drainQueue().size(); // lose a burst
                    else net.deliverAt(i);
                }
            } else if (dice < 73 && !seen.isEmpty()) {
                Message dup = seen.get(rnd.nextInt(seen.size()));
                if (net.member(dup.to()).up) net.deliver(dup); // a duplicate, possibly from an old term
            } else if (dice < 85) {
                long lead = net.leader();
                if (lead != 0) {
                    if (net.propose(lead, "p" + proposals).isAccepted()) proposals++;
                }
            } else if (dice < 87) {
                long lead = net.leader();
                if (lead != 0) {
                    var type = rnd.nextBoolean() ? ConfChange.Type.ADD_LEARNER : ConfChange.Type.ADD_VOTER;
                    if (!net.status(lead).confState().voters().contains(4L)) net.proposeConfChange(lead, ConfChange.of(type, 4));
                }
            } else if (dice < 90) {
                if (net.member(id).up) net.crash(id);
                else net.restart(id);
            } else if (dice < 92) {
                net.isolate(id);
            } else if (dice < 95) {
                net.heal();
            } else if (dice < 97) {
                var m = net.member(id);
                if (m.up && m.appliedIndex > m.storage.snapshot().meta().index()) net.compact(id);
            } else {
                net.stabilize();
            }
        }
        // Heal everything and let the group settle: a leader must emerge and commit a new proposal.
        // (Without pre-vote a lagging member may still disrupt a few elections, so allow retries.)
        net.heal();
        for (long id : net.ids()) if (!net.member(id).up) net.restart(id);
        String marker = null;
        for (int attempt = 0; attempt < 20 && marker == null; attempt++) {
            for (int i = 0; i < 100 && net.leader() == 0; i++) net.tickAll(1);
            long lead = net.leader();
            if (lead == 0 || !net.propose(lead, "final" + attempt).isAccepted()) {
                net.tickAll(1); // e.g. a transfer in progress: let time pass
                continue;
            }
            net.tickAll(20);
            String m = "final" + attempt;
            if (List.of(1L, 2L, 3L).stream().allMatch(id -> net.member(id).state.contains(m))) marker = m;
        }
        if (System.getenv("FUZZ_DEBUG") != null) {
            for (long id : net.ids()) System.out.println(net.status(id) + " first=" + net.node(id).logFirstIndex() + " state=" + net.member(id).state);
        }
        assertThat(marker).as("the healed group commits a new proposal on every voter (seed %d)", seed).isNotNull();
        for (long id : List.of(2L, 3L)) {
            assertThat(net.member(id).state).as("state of %d (seed %d)", id, seed).isEqualTo(net.member(1).state);
        }
    }

    /**
     * Like above, with membership churn (joiners 4 and 5 added as learners or voters, voters
     * removed, never re-added), leadership transfers and ReadIndex reads. A ReadState must name an
     * index at least as high as anything known committed when the read was issued (linearizable
     * reads, thesis §6.4).
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void safetyHoldsUnderMembershipChurnTransfersAndReads(long seed) {
        System.out.println("RandomizedSafetyTest churn seed " + seed);
        var rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        boolean preVote = rnd.nextBoolean();
        boolean checkQuorum = rnd.nextBoolean();
        boolean lease = checkQuorum && rnd.nextBoolean();
        var net = Network.founding(seed, b -> b.preVote(preVote).checkQuorum(checkQuorum).leaseBasedReads(lease).appendEntriesMax(1 + rnd.nextInt(4)), 1, 2, 3);
        net.addJoiner(4);
        net.addJoiner(5);
        boolean async = rnd.nextBoolean();
        net.asyncReady(async);
        var removed = new java.util.HashSet<Long>();
        var readFloor = new java.util.HashMap<String, Long>();
        var readsSeen = new java.util.HashMap<Long, Integer>();
        int reads = 0, proposals = 0;
        for (int step = 0; step < 1500; step++) {
            int dice = rnd.nextInt(100);
            long id = 1 + rnd.nextInt(5);
            long lead = net.leader();
            if (async && rnd.nextInt(100) < 30) net.completeReady(id); // a disk write finishes
            if (dice < 35) {
                net.tick(id);
            } else if (dice < 70) {
                int n = net.queueSize();
                if (n > 0) {
                    int i = rnd.nextInt(100) < 80 ? 0 : rnd.nextInt(n);
                    if (rnd.nextInt(100) < 5) net.drainQueue();
                    else net.deliverAt(i);
                }
            } else if (dice < 78) {
                if (lead != 0 && net.propose(lead, "p" + proposals).isAccepted()) proposals++;
            } else if (dice < 82) {
                long reader = rnd.nextBoolean() && lead != 0 ? lead : id;
                String ctx = "read" + reads++;
                long floor = 0;
                for (long m : net.ids()) floor = Math.max(floor, net.status(m).commitIndex());
                if (net.member(reader).up && net.readIndex(reader, ctx).isAccepted()) readFloor.put(ctx, floor);
            } else if (dice < 85) {
                if (lead != 0) {
                    var cs = net.status(lead).confState();
                    if (cs.isJoint()) {
                        net.proposeConfChange(lead, ConfChange.LEAVE_JOINT); // explicit leave (or refused while one is pending)
                    } else {
                        // One or two changes at once, sometimes with an explicit leave.
                        var changes = new ArrayList<ConfChange.Change>();
                        var touched = new java.util.HashSet<Long>();
                        int k = 1 + rnd.nextInt(2);
                        for (int c = 0; c < k; c++) {
                            long who = 1 + rnd.nextInt(5);
                            if (removed.contains(who) || !touched.add(who)) continue;
                            changes.add(new ConfChange.Change(ConfChange.Type.values()[rnd.nextInt(3)], who));
                        }
                        long removals = changes.stream().filter(c -> c.type() == ConfChange.Type.REMOVE || c.type() == ConfChange.Type.ADD_LEARNER)
                                .filter(c -> cs.voters().contains(c.nodeId())).count();
                        long additions = changes.stream().filter(c -> c.type() == ConfChange.Type.ADD_VOTER && !cs.voters().contains(c.nodeId())).count();
                        if (!changes.isEmpty() && cs.voters().size() - removals + additions >= 2) {
                            var cc = new ConfChange(changes, rnd.nextInt(100) < 25);
                            if (net.proposeConfChange(lead, cc).isAccepted()) {
                                for (var c : changes) if (c.type() == ConfChange.Type.REMOVE) removed.add(c.nodeId());
                            }
                        }
                    }
                }
            } else if (dice < 87) {
                if (lead != 0) net.transferLeadership(lead, id);
            } else if (dice < 89) {
                if (net.member(id).up) net.crash(id);
                else net.restart(id);
            } else if (dice < 91) {
                net.isolate(id);
            } else if (dice < 94) {
                net.heal();
            } else if (dice < 96) {
                var m = net.member(id);
                if (m.up && m.appliedIndex > m.storage.snapshot().meta().index()) net.compact(id);
            } else {
                net.stabilize();
            }
            for (long m : net.ids()) {
                var rs = net.member(m).readStates;
                for (int k = readsSeen.getOrDefault(m, 0); k < rs.size(); k++) {
                    String ctx = new String(rs.get(k).requestContext());
                    Long floor = readFloor.get(ctx);
                    assertThat(floor).as("read %s answered on %d but issued elsewhere? (seed %d)", ctx, m, seed).isNotNull();
                    assertThat(rs.get(k).index()).as("read %s on %d: index vs commit at issue (seed %d)", ctx, m, seed).isGreaterThanOrEqualTo(floor);
                }
                readsSeen.put(m, rs.size());
            }
        }
        net.heal();
        for (long id : net.ids()) if (!net.member(id).up) net.restart(id);
        String marker = null;
        for (int attempt = 0; attempt < 20 && marker == null; attempt++) {
            for (int i = 0; i < 100 && net.leader() == 0; i++) net.tickAll(1);
            long lead = net.leader();
            if (lead == 0 || !net.propose(lead, "final" + attempt).isAccepted()) {
                net.tickAll(1); // e.g. a transfer in progress: let time pass
                continue;
            }
            net.tickAll(20);
            String m = "final" + attempt;
            var voters = net.status(lead).confState().voters();
            if (voters.stream().allMatch(v -> net.member(v).state.contains(m))) marker = m;
        }
        if (System.getenv("FUZZ_DEBUG") != null) {
            for (long id : net.ids()) System.out.println(net.status(id) + " first=" + net.node(id).logFirstIndex() + " up=" + net.member(id).up + " state=" + net.member(id).state);
            if (net.leader() != 0) System.out.println("progress " + net.node(net.leader()).progressView());
            var tail = net.sent();
            for (var msg : tail.subList(Math.max(0, tail.size() - 30), tail.size())) System.out.println("  " + msg);
        }
        assertThat(marker).as("the healed group commits a new proposal on every voter (seed %d)", seed).isNotNull();
    }
}
