package io.synod.consensus;

import java.util.List;

/**
 * The durable log as the consensus core reads it. The core never writes here: the driver
 * appends entries and installs snapshots after making them durable, then calls
 * {@link ConsensusNode#advance}. Entries before {@link #firstIndex()} have been compacted into
 * the snapshot; {@link #term(long)} must still answer for {@code firstIndex() - 1} (the
 * snapshot's own index).
 */
public interface LogStorage {
    /** What was persisted before the last restart. */
    HardState hardState();

    /** Membership as of the latest snapshot (the core replays later conf changes from the log). */
    ConfState confState();

    /** Index of the first entry still held; {@code snapshot().meta().index() + 1}. */
    long firstIndex();

    /** Index of the last entry held, or {@code firstIndex() - 1} when none are. */
    long lastIndex();

    /**
     * Term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()}.
     *
     * @throws CompactedException if {@code index < firstIndex() - 1}
     */
    long term(long index);

    /**
     * Entries in {@code [lo, hi)}, stopping early (but always returning at least one entry when
     * the range is non-empty) once {@code maxBytes} would be exceeded.
     *
     * @throws CompactedException if {@code lo < firstIndex()}
     */
    List<Entry> entries(long lo, long hi, long maxBytes);

    /** The latest snapshot, or {@link Snapshot#EMPTY}. */
    Snapshot snapshot();

    /** Thrown when asked for a part of the log that was compacted away. */
    final class CompactedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public CompactedException(long index, long firstIndex) {
            super("index " + index + " is compacted (first available " + firstIndex + ")");
        }
    }
}
