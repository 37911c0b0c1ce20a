package io.synod.consensus;

import java.util.Set;
import java.util.TreeSet;

/**
 * The membership of a group. In a joint configuration ({@code votersOutgoing} non-empty) a
 * decision needs a majority of {@code voters} and a majority of {@code votersOutgoing}
 * (Raft §6, joint consensus). {@code learnersNext} holds voters of the outgoing config that
 * become learners when the joint config is left; they keep voting until then.
 *
 * @param autoLeave the core proposes leaving the joint config by itself once it is applied
 */
public record ConfState(Set<Long> voters, Set<Long> learners, Set<Long> votersOutgoing, Set<Long> learnersNext, boolean autoLeave) {
    public static final ConfState EMPTY = new ConfState(Set.of(), Set.of(), Set.of(), Set.of(), false);

    public ConfState {
        // Sorted, so that iterating a membership is deterministic (Set.copyOf's order is salted per JVM,
        // which would make simulator runs depend on the process instead of the seed).
        voters = sorted(voters);
        learners = sorted(learners);
        votersOutgoing = sorted(votersOutgoing);
        learnersNext = sorted(learnersNext);
        for (long l : learners) {
            if (voters.contains(l) || votersOutgoing.contains(l)) {
                throw new IllegalArgumentException("member " + l + " is both learner and voter in " + voters + "/" + votersOutgoing);
            }
        }
    }

    private static Set<Long> sorted(Set<Long> s) {
        return java.util.Collections.unmodifiableSortedSet(new TreeSet<>(s));
    }

    public static ConfState ofVoters(Set<Long> voters) {
        return new ConfState(voters, Set.of(), Set.of(), Set.of(), false);
    }

    public boolean isJoint() {
        return !votersOutgoing.isEmpty();
    }

    /** Every member that takes part in replication: voters (both halves) and learners. */
    public Set<Long> allMembers() {
        var all = new TreeSet<Long>(voters);
        all.addAll(votersOutgoing);
        all.addAll(learners);
        all.addAll(learnersNext);
        return all;
    }

    public boolean isVoter(long id) {
        return voters.contains(id) || votersOutgoing.contains(id);
    }
}
