package io.synod.replica;

import io.synod.consensus.ConfChange;
import io.synod.consensus.ConfState;
import io.synod.consensus.Snapshot;

/**
 * The application the log drives. Entries arrive in index order, each at most once per process;
 * after a restart the driver skips entries at or below {@link #appliedIndex()} (the state
 * machine already holds them), so the state machine must record its applied index atomically
 * with each change.
 *
 * <p>Snapshots. The driver compacts the log only up to what {@link #flush()} reports durable, and
 * when the leader sent this member a snapshot it calls {@link #restore(Snapshot)} before the
 * snapshot's metadata is persisted in the log: a crash in between leaves the state machine ahead
 * of the log, which the skip-what-is-applied rule above already handles.
 */
public interface StateMachine {
    /** The last log index whose effect the state machine holds (0 for a new one). */
    long appliedIndex();

    /** Applies the command in a NORMAL, non-empty entry; the result completes the proposal's future. */
    Object apply(long index, byte[] command);

    /**
     * Applies the commands of consecutive NORMAL, non-empty entries ({@code indexes} ascending) as
     * one step, returning their results in order; the driver uses it for runs of committed
     * commands so that a machine can write them to its store at once. Each command must see the
     * effects of those before it, and the applied index must move to the last one atomically with
     * their effects. The default applies them one at a time.
     */
    default Object[] applyBatch(long[] indexes, byte[][] commands) {
        Object[] results = new Object[indexes.length];
        for (int i = 0; i < indexes.length; i++) results[i] = apply(indexes[i], commands[i]);
        return results;
    }

    /** Records that an entry without a command (leader no-op) was applied. */
    void markApplied(long index);

    /**
     * Applies a committed membership change: {@code change} with its opaque context (etcd carries
     * the member's metadata there) and the configuration in force after it. Called once per entry
     * like {@link #apply}, and, like it, skipped for entries at or below {@link #appliedIndex()}
     * after a restart, so the metadata must be recorded atomically with the applied index. The
     * default only records the index, for machines that keep no membership metadata.
     */
    default void applyConfChange(long index, ConfChange change, ConfState conf) {
        markApplied(index);
    }

    /**
     * Makes everything applied so far durable and returns the applied index that now survives a
     * crash; the driver discards log entries only up to there.
     */
    long flush();

    /**
     * Replaces the whole state with the one received for {@code snapshot} (its {@code data} names
     * the received state; how is the implementation's business), atomically across crashes: after
     * a crash at any point the old state or the new one is found, never a mix. If this machine
     * already holds at least as much as the received state it keeps its own. Returns the applied
     * index held afterwards, which is at least the snapshot's index.
     */
    long restore(Snapshot snapshot);
}
