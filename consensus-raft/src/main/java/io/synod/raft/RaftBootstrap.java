package io.synod.raft;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.Entry;
import io.synod.consensus.EntryType;
import io.synod.consensus.HardState;
import io.synod.consensus.MemoryLogStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * How a brand-new group starts: every founding member's log holds the same committed entry at
 * (term 1, index 1) adding the founding voters. Membership then always comes from applying the
 * log (or a snapshot), so a member added later learns the whole history the same way, and no
 * special case for "initial configuration" exists in the core.
 */
public final class RaftBootstrap {
    private RaftBootstrap() {}

    public static final long BOOTSTRAP_TERM = 1;
    public static final long BOOTSTRAP_INDEX = 1;

    public static Entry entry(Set<Long> voters) {
        var changes = new ArrayList<ConfChange.Change>();
        for (long v : new java.util.TreeSet<>(voters)) changes.add(new ConfChange.Change(ConfChange.Type.ADD_VOTER, v));
        return new Entry(BOOTSTRAP_TERM, BOOTSTRAP_INDEX, EntryType.CONF_CHANGE, new ConfChange(changes, false).encode());
    }

    public static HardState hardState() {
        return new HardState(BOOTSTRAP_TERM, HardState.NO_VOTE, BOOTSTRAP_INDEX);
    }

    /** Storage for a founding member. A member joining an existing group starts from {@code new MemoryLogStorage(ConfState.EMPTY)}. */
    public static MemoryLogStorage foundingStorage(Set<Long> voters) {
        var s = new MemoryLogStorage(ConfState.EMPTY);
        s.append(List.of(entry(voters)));
        s.setHardState(hardState());
        return s;
    }
}
