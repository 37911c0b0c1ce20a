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
 * being promoted. The network itself checks Election Safety (one leader per term, Raft §5.2) and
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
        List<Message> seen = new ArrayList<>();
        int proposals = 0;
        for (int step = 0; step < 1500; step++) {
            int dice = rnd.nextInt(100);
            long id = 1 + rnd.nextInt(4);
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
            if (lead == 0 || !net.propose(lead, "final" + attempt).isAccepted()) continue;
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
}
