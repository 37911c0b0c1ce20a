package io.synod.consensus;

import java.util.Map;

/**
 * A read-only view of a member for operators, metrics and tests (never used to make decisions
 * inside the core). {@code matchIndex} is what a leader knows each member (itself included) holds
 * durably; it is empty on a non-leader, which does not track replication. The server uses it to
 * refuse promoting a learner that is far behind (etcd's "in sync with leader" rule).
 */
public record Status(long id, long term, long vote, Role role, long leader, long commitIndex, long appliedIndex, long lastIndex, ConfState confState,
        Map<Long, Long> matchIndex) {
    public Status {
        matchIndex = Map.copyOf(matchIndex);
    }

    /** A status without replication progress (a non-leader's). */
    public Status(long id, long term, long vote, Role role, long leader, long commitIndex, long appliedIndex, long lastIndex, ConfState confState) {
        this(id, term, vote, role, leader, commitIndex, appliedIndex, lastIndex, confState, Map.of());
    }
}
