package io.synod.consensus;

/** What a log entry carries: an opaque application command, or a membership change the core interprets. */
public enum EntryType {
    /** Application data; an empty NORMAL entry is the no-op a new leader appends (Raft §8). */
    NORMAL,
    /** An encoded {@link ConfChange}; applied by calling {@link ConsensusNode#applyConfChange}. */
    CONF_CHANGE
}
