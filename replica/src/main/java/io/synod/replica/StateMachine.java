package io.synod.replica;

/**
 * The application the log drives. Entries arrive in index order, each at most once per process;
 * after a restart the driver skips entries at or below {@link #appliedIndex()} (the state
 * machine already holds them), so the state machine must record its applied index atomically
 * with each change.
 */
public interface StateMachine {
    /** The last log index whose effect the state machine holds (0 for a new one). */
    long appliedIndex();

    /** Applies the command in a NORMAL, non-empty entry; the result completes the proposal's future. */
    Object apply(long index, byte[] command);

    /** Records that an entry without a command (leader no-op, membership change) was applied. */
    void markApplied(long index);
}
