package io.synod.mvcc;

import java.util.List;

/**
 * Told about each applied write after it is committed to the store, on the applying thread and
 * outside the store lock: it must be quick and must not call back into {@code apply}. A watch hub
 * uses it to fan events out; catch-up for watchers that fall behind uses {@link MvccStore#changesSince}.
 */
@FunctionalInterface
public interface ChangeListener {
    /** {@code events} all belong to main revision {@code revision}, ordered by sub revision; never empty. */
    void onChanges(long revision, List<Event> events);

    /**
     * Whether this listener wants the replaced value of {@code key} read while the write is
     * applied (asked under the store lock: answer from memory, quickly). A listener that answers
     * false gets events with {@link Event#prevKvUnread()} and must read the value itself when it
     * turns out to need it, since a watcher may start caring after the answer. Reading it on every
     * write costs a store read per put (a tenth of a member's CPU under 100,000-key puts).
     */
    default boolean wantsPrevKv(Bytes key) {
        return true;
    }
}
