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
}
