package io.synod.consensus;

/**
 * The immediate answer to a proposal. An accepted proposal is not yet committed: it is committed
 * when an entry with the same index <em>and term</em> is applied; if the entry applied at that
 * index has another term, the proposal was lost to a leader change and must be failed (never
 * silently dropped, never retried blindly, since it may be visible to no one or to everyone).
 */
public sealed interface ProposeResult {
    /** Appended to the leader's log at (term, index); for reads and transfers, index is 0. */
    record Accepted(long term, long index) implements ProposeResult {}

    /** Not appended; {@code leaderHint} is the leader to forward to, or {@link SoftState#NO_LEADER}. */
    record Rejected(Reason reason, long leaderHint, String detail) implements ProposeResult {}

    /** Why a proposal or read was refused. */
    enum Reason {
        /** This member is not the leader; forward to {@code leaderHint} if known. */
        NOT_LEADER,
        /** No leader is known (an election is under way). */
        NO_LEADER,
        /** This member is not (or no longer) a member of the group. */
        REMOVED,
        /** A leadership transfer is in progress; retry after it ends. */
        TRANSFERRING,
        /** Another membership change is still being applied. */
        CONF_CHANGE_PENDING,
        /** The change is malformed (for example it would leave no voter). */
        INVALID_CONF_CHANGE,
        /** The named member is not a voter of this group (e.g. a leadership transfer to a learner). */
        UNKNOWN_MEMBER,
        /** Too much is proposed but not yet committed; back off. */
        OVERLOADED,
        /** The command exceeds the configured maximum size. */
        TOO_LARGE
    }

    default boolean isAccepted() {
        return this instanceof Accepted;
    }
}
