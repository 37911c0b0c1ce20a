package io.synod.raft;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import java.util.Set;
import java.util.TreeSet;

/**
 * Membership transitions as a pure function of (current ConfState, ConfChange). Every change that
 * is not a leave goes through a joint configuration: the outgoing half is the current voter set,
 * the incoming half receives the changes, so several voters can be added, removed or replaced at
 * once without ever allowing two disjoint majorities (Raft §6). A voter demoted to learner keeps
 * voting in the outgoing half until the joint configuration is left ({@code learnersNext}).
 */
final class Membership {
    private Membership() {}

    /** A change that cannot be applied to the current configuration. */
    static final class InvalidChange extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidChange(String message) {
            super(message);
        }
    }

    static ConfState apply(ConfState cs, ConfChange cc) throws InvalidChange {
        if (cc.isLeaveJoint()) return leaveJoint(cs);
        if (cc.isUpdateOnly()) return update(cs, cc);
        return enterJoint(cs, cc);
    }

    /**
     * Metadata-only changes (etcd's ConfChangeUpdateNode): the configuration stays as it is, also
     * in a joint one, since nothing about quorums changes; the member must exist so that the
     * metadata riding in the context describes someone.
     */
    private static ConfState update(ConfState cs, ConfChange cc) throws InvalidChange {
        for (ConfChange.Change c : cc.changes()) {
            if (!cs.allMembers().contains(c.nodeId())) throw new InvalidChange("cannot update " + c.nodeId() + ": not a member of " + cs);
        }
        return cs;
    }

    private static ConfState enterJoint(ConfState cs, ConfChange cc) throws InvalidChange {
        if (cs.isJoint()) throw new InvalidChange("already in a joint configuration; leave it first");
        if (cs.voters().isEmpty()) return bootstrap(cs, cc);
        var voters = new TreeSet<>(cs.voters());
        var learners = new TreeSet<>(cs.learners());
        var learnersNext = new TreeSet<Long>();
        Set<Long> outgoing = cs.voters();
        for (ConfChange.Change c : cc.changes()) {
            long id = c.nodeId();
            switch (c.type()) {
                case UPDATE -> throw new InvalidChange("an UPDATE cannot be combined with other changes: " + cc);
                case ADD_VOTER -> {
                    learners.remove(id);
                    learnersNext.remove(id);
                    voters.add(id);
                }
                case ADD_LEARNER -> {
                    voters.remove(id);
                    learners.remove(id);
                    learnersNext.remove(id);
                    // Still a voter of the outgoing half: becomes a learner only when the joint config is left.
                    if (outgoing.contains(id)) learnersNext.add(id);
                    else learners.add(id);
                }
                case REMOVE -> {
                    voters.remove(id);
                    learners.remove(id);
                    learnersNext.remove(id);
                }
            }
        }
        if (voters.isEmpty()) throw new InvalidChange("the change would remove every voter");
        return new ConfState(voters, learners, outgoing, learnersNext, !cc.explicitLeave());
    }

    /**
     * The first configuration of a group (the bootstrap entry at index 1): there is no old
     * majority to overlap with, so it is assigned directly.
     */
    private static ConfState bootstrap(ConfState cs, ConfChange cc) throws InvalidChange {
        var voters = new TreeSet<Long>();
        var learners = new TreeSet<>(cs.learners());
        for (ConfChange.Change c : cc.changes()) {
            switch (c.type()) {
                case UPDATE -> throw new InvalidChange("a bootstrap configuration cannot update members: " + cc);
                case ADD_VOTER -> { learners.remove(c.nodeId()); voters.add(c.nodeId()); }
                case ADD_LEARNER -> { voters.remove(c.nodeId()); learners.add(c.nodeId()); }
                case REMOVE -> { voters.remove(c.nodeId()); learners.remove(c.nodeId()); }
            }
        }
        if (voters.isEmpty()) throw new InvalidChange("a bootstrap configuration needs at least one voter");
        return new ConfState(voters, learners, Set.of(), Set.of(), false);
    }

    private static ConfState leaveJoint(ConfState cs) throws InvalidChange {
        if (!cs.isJoint()) throw new InvalidChange("not in a joint configuration");
        var learners = new TreeSet<>(cs.learners());
        learners.addAll(cs.learnersNext());
        return new ConfState(cs.voters(), learners, Set.of(), Set.of(), false);
    }
}
