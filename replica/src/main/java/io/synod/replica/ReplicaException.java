package io.synod.replica;

import io.synod.consensus.SoftState;

/**
 * Why a proposal or read handed to a {@link ReplicaDriver} failed. {@code leaderHint} is the
 * member to forward to when the kind is {@link Kind#NOT_LEADER} (else {@link SoftState#NO_LEADER}).
 * A {@link Kind#LEADER_CHANGED} proposal is known not to have taken effect: another entry was
 * applied at its index.
 */
public final class ReplicaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The failure classes a caller reacts to differently. */
    public enum Kind {
        /** This member does not lead; forward to the hint (or wait for an election). */
        NOT_LEADER,
        /** The entry at the proposal's index was applied with another term: the proposal was lost. */
        LEADER_CHANGED,
        /** The read will never get a read index (leadership lost); retry. */
        READ_ABORTED,
        /** A bound was reached (inbox, pending proposals or reads, or the core's own limits). */
        OVERLOADED,
        /** The core refused the request for another reason (too large, removed member, ...). */
        REJECTED,
        /**
         * The driver stopped before the request finished, or the request's outcome cannot be known
         * here (its entry was covered by a snapshot installed from the leader): it may have happened.
         */
        STOPPED
    }

    private final Kind kind;
    private final long leaderHint;

    public ReplicaException(Kind kind, long leaderHint, String message) {
        super(message);
        this.kind = kind;
        this.leaderHint = leaderHint;
    }

    public ReplicaException(Kind kind, String message) {
        this(kind, SoftState.NO_LEADER, message);
    }

    public Kind kind() {
        return kind;
    }

    public long leaderHint() {
        return leaderHint;
    }
}
